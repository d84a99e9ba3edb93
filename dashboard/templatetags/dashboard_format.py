"""Formatting for the dashboard's plain data (selectors return values, not models)."""

from datetime import datetime

from django import template

register = template.Library()


@register.filter
def iso_time(value):
    """The HH:MM of an ISO 8601 timestamp, in the offset it carries (TIME_ZONE)."""
    try:
        return datetime.fromisoformat(value).strftime("%H:%M")
    except (TypeError, ValueError):
        return ""
