"""The dashboard's charts as inline SVG: `{% status_chart counts %}`, `{% trend_chart trend %}`.

Plain string building with html.escape, as for the due rows
(dashboard/due_cards.py): the two charts are some 500 values, and escaping
each one through Django's template engine was the largest part of rendering a
cold dashboard (figures in docs/performance.md). Numbers are written as they
are (no localisation): SVG coordinates must stay machine-readable.
"""

from html import escape

from django import template
from django.utils.safestring import mark_safe

from dashboard import charts
from leads.templatetags.leads_tags import status_label

register = template.Library()


@register.simple_tag
def status_chart(status_counts):
    """Horizontal bars from dashboard.charts.status_chart; the table beside it
    has the same numbers."""
    chart = charts.status_chart(status_counts)
    labels = [(row, escape(str(status_label(row["status"])))) for row in chart["rows"]]
    described = "; ".join(f'{label}: {row["count"]}' for row, label in labels)
    parts = [
        f'<svg class="chart status-chart" width="100%" height="{chart["height"]}" role="img"\n'
        '     aria-labelledby="status-chart-title status-chart-desc" focusable="false">\n'
        '  <title id="status-chart-title">Leads by status</title>\n'
        f'  <desc id="status-chart-desc">{described} ({chart["total"]} in all).</desc>\n'
    ]
    for row, label in labels:
        status = escape(row["status"])
        parts.append(
            f'  <g data-status="{status}">\n'
            f'    <text x="0" y="{row["text_y"]}" class="chart-label">{label}</text>\n'
            f'    <rect class="bar status-{status}" x="{row["bar_x"]}%" y="{row["bar_y"]}" '
            f'width="{row["bar_width"]}%" height="{row["bar_height"]}" rx="2">'
            f'<title>{label}: {row["count"]}</title></rect>\n'
            f'    <text x="{row["count_x"]}%" dx="6" y="{row["text_y"]}" '
            f'class="chart-value">{row["count"]}</text>\n'
            "  </g>\n"
        )
    parts.append("</svg>\n")
    return mark_safe("".join(parts))


@register.simple_tag
def trend_chart(trend):
    """Grouped bars per day from dashboard.charts.trend_chart; the table below
    holds the numbers."""
    chart = charts.trend_chart(trend)
    days = chart["days"]
    described = "; ".join(
        f'{escape(day["long_label"])}: {day["new_leads"]} new, '
        f'{day["updates"]} {_label("updates", day["updates"])}, '
        f'{day["calls"]} {_label("calls", day["calls"])}'
        for day in days
    )
    parts = [
        '<ul class="legend" aria-hidden="true">\n'
        '  <li><span class="swatch bar-new_leads"></span>New leads</li>\n'
        '  <li><span class="swatch bar-updates"></span>Follow-up updates</li>\n'
        '  <li><span class="swatch bar-calls"></span>Calls</li>\n'
        "</ul>\n"
        f'<svg class="chart trend-chart" width="100%" height="{chart["height"]}" role="img"\n'
        '     aria-labelledby="trend-chart-title trend-chart-desc" focusable="false">\n'
        '  <title id="trend-chart-title">New leads, follow-up updates and calls per day, '
        f'{escape(chart["first"])} to {escape(chart["last"])}</title>\n'
        f'  <desc id="trend-chart-desc">{described}.</desc>\n'
        f'  <text x="0" y="{chart["plot_top"] - 8}" class="chart-scale">{chart["max"]}</text>\n'
        f'  <line class="gridline" x1="0" x2="100%" y1="{chart["plot_top"]}" '
        f'y2="{chart["plot_top"]}"></line>\n'
        f'  <line class="axis" x1="0" x2="100%" y1="{chart["plot_bottom"]}" '
        f'y2="{chart["plot_bottom"]}"></line>\n'
    ]
    for index, day in enumerate(days):
        long_label = escape(day["long_label"])
        bars = "".join(
            f'<rect class="bar bar-{bar["series"]}" x="{bar["x"]}%" y="{bar["y"]}" '
            f'width="{bar["width"]}%" height="{bar["height"]}" data-count="{bar["count"]}">'
            f'<title>{long_label}: {bar["count"]} '
            f'{_label(bar["series"], bar["count"])}</title></rect>'
            for bar in day["bars"]
        )
        today = " today" if index == len(days) - 1 else ""
        parts.append(
            f'  <g data-date="{escape(day["date"])}">\n'
            f"    {bars}\n"
            f'    <text x="{day["label_x"]}%" y="{chart["label_y"]}" text-anchor="middle" '
            f'class="chart-label{today}">{day["day_label"]}</text>\n'
            "  </g>\n"
        )
    parts.append(
        "</svg>\n"
        '<details class="chart-numbers">\n'
        "  <summary>Show the numbers</summary>\n"
        '  <table class="data trend">\n'
        '    <thead><tr><th>Day</th><th class="num">New leads</th>'
        '<th class="num">Follow-up updates</th><th class="num">Calls</th>'
        "</tr></thead>\n"
        "    <tbody>\n"
    )
    parts.extend(
        f'      <tr data-date="{escape(day["date"])}"><td>{escape(day["long_label"])}</td>'
        f'<td class="num">{day["new_leads"]}</td><td class="num">{day["updates"]}</td>'
        f'<td class="num">{day["calls"]}</td></tr>\n'
        for day in days
    )
    parts.append("    </tbody>\n  </table>\n</details>\n")
    return mark_safe("".join(parts))


def _label(series, count):
    if series == "updates":
        return "follow-up update" if count == 1 else "follow-up updates"
    if series == "calls":
        return "call" if count == 1 else "calls"
    return "new lead" if count == 1 else "new leads"
