"""Formatting for the dashboard's plain data (selectors return values, not models)."""

from datetime import date, datetime
from html import escape

from django import template
from django.utils.formats import date_format
from django.utils.safestring import mark_safe

from calls.rendering import attempts_html
from leads.models import LeadStatus
from leads.templatetags.leads_tags import render_quick_update_form, url_for_id
from whatsapp.templatetags.whatsapp_tags import whatsapp_button_html

register = template.Library()


@register.filter
def iso_datetime(value):
    """An ISO 8601 timestamp for people ("30 Nov 2026, 17:30", DATETIME_FORMAT),
    in the offset it carries (TIME_ZONE)."""
    try:
        return date_format(datetime.fromisoformat(value), "DATETIME_FORMAT")
    except (TypeError, ValueError):
        return ""


@register.filter
def iso_date(value):
    """An ISO 8601 date for people ("30 Nov 2026", DATE_FORMAT)."""
    try:
        return date_format(date.fromisoformat(value), "DATE_FORMAT")
    except (TypeError, ValueError):
        return ""


@register.simple_tag(takes_context=True)
def due_rows(context, items):
    """The due list's table rows, each with its quick-update form.

    Plain string building with html.escape (see render_quick_update_form):
    fifty rows of a dozen values and a form each, through Django's template
    engine, were most of a cold dashboard's time (docs/performance.md).
    `is_staff` in the context adds the admin link.
    """
    staff = context.get("is_staff", False)
    csrf_token, next_url = context.get("csrf_token", ""), context.get("next_url", "")
    labels = dict(LeadStatus.choices)
    edit_url, admin_url = url_for_id("timeline:lead"), url_for_id("admin:leads_lead_change")
    action_url = url_for_id("leads:quick_update")
    whatsapp_url = url_for_id("whatsapp:picker")
    rows = []
    for item in items:
        lead_id, mobile, status = int(item["id"]), escape(item["mobile"]), item["status"]
        admin = f' <a href="{admin_url(lead_id)}">Admin</a>' if staff else ""
        form = render_quick_update_form(
            item, csrf_token=csrf_token, next_url=next_url, action_url=action_url(lead_id)
        )
        rows.append(
            f'<tr data-lead="{lead_id}">'
            f'<td data-label="Time"><time datetime="{escape(item["followup_date"])}">'
            f'{escape(iso_datetime(item["followup_date"]))}</time></td>'
            f'<td data-label="Customer">{escape(item["customer_name"])}'
            f'{attempts_html(item.get("calls"))}</td>'
            f'<td data-label="Mobile" class="nowrap"><a href="tel:+91{mobile}">{mobile}</a> '
            f'{whatsapp_button_html(whatsapp_url(lead_id))}</td>'
            f'<td data-label="Registration">{escape(item["car_registration"] or "—")}</td>'
            f'<td data-label="Status"><span class="status status-{escape(status)}">'
            f"{escape(labels.get(status, status))}</span></td>"
            f'<td data-label="Creator">{escape(item["creator_username"])}</td>'
            f'<td data-label="Lead" class="nowrap">'
            f'<a href="{edit_url(lead_id)}">Open</a>{admin}</td>'
            f'<td data-label="Update" class="update-cell">{form}</td>'
            "</tr>"
        )
    return mark_safe("\n".join(rows))


@register.simple_tag
def user_options(users, selected_id):
    """The manager's user menu options ({"id", "username"} each), the one with
    `selected_id` selected: built as one escaped string, since the template
    engine's per-variable work made hundreds of users a visible part of a
    cold page (as for the due rows)."""
    return mark_safe("".join(  # every value is escaped here
        f'<option value="{int(user["id"])}"{" selected" if user["id"] == selected_id else ""}>'
        f'{escape(user["username"])}</option>'
        for user in users
    ))
