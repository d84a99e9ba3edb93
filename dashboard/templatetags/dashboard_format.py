"""Formatting for the dashboard's plain data (selectors return values, not models)."""

from datetime import datetime

from django import template

from leads.models import LeadStatus

register = template.Library()


@register.filter
def status_label(value):
    """"needs_followup" -> "Needs Followup" (an unknown value is shown as stored)."""
    try:
        return LeadStatus(value).label
    except ValueError:
        return value


@register.filter
def iso_time(value):
    """The HH:MM of an ISO 8601 timestamp, in the offset it carries (TIME_ZONE)."""
    try:
        return datetime.fromisoformat(value).strftime("%H:%M")
    except (TypeError, ValueError):
        return ""
