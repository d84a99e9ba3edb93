from datetime import datetime

from django import template
from django.utils import timezone

from leads.forms import DATETIME_LOCAL_FORMAT
from leads.models import LeadStatus

register = template.Library()


@register.simple_tag
def lead_status_choices():
    return LeadStatus.choices


@register.filter
def datetime_local(value):
    """A datetime, or an ISO 8601 string, as the value of an
    <input type="datetime-local"> in the current time zone ('' if empty or bad)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return ""
    if not isinstance(value, datetime):
        return ""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return timezone.localtime(value).strftime(DATETIME_LOCAL_FORMAT)


@register.filter
def status_label(value):
    try:
        return LeadStatus(value).label
    except ValueError:
        return value
