"""The dashboard's charts as inline SVG: `{% status_chart counts %}`, `{% trend_chart trend %}`."""

from django import template

from dashboard import charts

register = template.Library()


@register.inclusion_tag("dashboard/includes/status_chart.html")
def status_chart(status_counts):
    return {"chart": charts.status_chart(status_counts)}


@register.inclusion_tag("dashboard/includes/trend_chart.html")
def trend_chart(trend):
    return {"chart": charts.trend_chart(trend)}
