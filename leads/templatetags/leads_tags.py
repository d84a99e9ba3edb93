from datetime import datetime

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

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


@register.simple_tag(takes_context=True)
def quick_update_form(context, item):
    """The due list's after-call form for one lead (`item`, a due-list dict):
    status, next follow-up, remark, posting to leads:quick_update and coming
    back to the context's `next_url`.

    Built in Python rather than with an include: the dashboard renders fifty
    of them per page, and an included template costs several times more.
    """
    lead_id = item["id"]
    options = format_html_join(
        "", '<option value="{}"{}>{}</option>',
        ((value, " selected" if value == item["status"] else "", label)
         for value, label in LeadStatus.choices),
    )
    return format_html(
        '<form method="post" action="{action}" class="quick-update" aria-label="Update {name}">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
        '<input type="hidden" name="next" value="{next}">'
        '<label for="qu-{id}-status">Status</label>'
        '<select id="qu-{id}-status" name="status">{options}</select>'
        '<label for="qu-{id}-followup">Next follow-up</label>'
        '<input type="datetime-local" id="qu-{id}-followup" name="followup_date" value="{followup}">'
        '<label for="qu-{id}-remark">Remark</label>'
        '<input type="text" id="qu-{id}-remark" name="remark" maxlength="1000"'
        ' placeholder="Optional, added to the remarks">'
        '<button type="submit">Save</button></form>',
        action=reverse("leads:quick_update", args=[lead_id]),
        name=item["customer_name"],
        csrf=context.get("csrf_token", ""),
        next=context.get("next_url", ""),
        id=lead_id,
        options=options,
        followup=datetime_local(item["followup_date"]),
    )
