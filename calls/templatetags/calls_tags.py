from django import template
from django.utils.safestring import mark_safe

from calls.rendering import outcome_fields_html

register = template.Library()


@register.simple_tag
def call_outcome_fields(lead_id, call_form):
    """The outcome buttons and call length, showing what `call_form` was given."""
    data = call_form.data if call_form.is_bound else {}
    return mark_safe(outcome_fields_html(  # built with html.escape
        lead_id, outcome=data.get("outcome", ""), duration=data.get("duration", "")))
