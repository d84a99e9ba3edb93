from datetime import datetime
from functools import cache, lru_cache
from html import escape

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from calls.rendering import outcome_fields_html
from leads.forms import DATETIME_LOCAL_FORMAT, FOLLOWUP_SHORTCUTS, NO_FOLLOWUP_LABEL
from leads.models import REMARK_MAX_CHARS, LeadStatus

register = template.Library()


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


_URL_ID = 4242424242  # stands for the lead id in a reversed URL


def url_for_id(name):
    """A function id -> URL for a route taking one lead id, reversing once:
    reverse() matches patterns and converts arguments on every call, and the
    dashboard needs three URLs for each of fifty leads (docs/performance.md)."""
    template = reverse(name, args=[_URL_ID])
    return lambda lead_id: template.replace(str(_URL_ID), str(int(lead_id)))


@lru_cache(maxsize=32)
def _status_options(selected):
    # Bounded: a refused form shows the status it was sent, whatever it was.
    return "".join(
        f'<option value="{escape(value)}"{" selected" if value == selected else ""}>'
        f"{escape(label)}</option>"
        for value, label in LeadStatus.choices
    )


# The first submit button of a form is the one Enter uses. Without it, Enter
# in a field would press the first follow-up shortcut and move the follow-up
# the user never asked to move; with it, Enter saves what was typed.
DEFAULT_SAVE_BUTTON = (
    '<button type="submit" class="visually-hidden" tabindex="-1" aria-hidden="true">'
    "Save</button>"
)


def followup_shortcuts_html(target_id):
    """The shortcut buttons next to a follow-up field. Each is a submit button
    (`followup_shortcut=<value>`: without JavaScript the form saves with the
    follow-up the server works out); static/js/leads.js turns a click into
    filling the field instead, in the business time zone. (Not cached per
    field: a process would keep one string per lead ever shown.)"""
    return (
        f'<div class="followup-shortcuts" role="group" aria-label="Follow-up shortcuts"'
        f' data-time-zone="{escape(settings.TIME_ZONE)}">'
        f'{_shortcut_buttons().replace(_TARGET, escape(target_id))}</div>'
    )


_TARGET = "{target}"  # stands for the field's id in the cached markup


@cache
def _shortcut_buttons():
    return "".join(
        f'<button type="submit" class="followup-shortcut" name="followup_shortcut"'
        f' value="{escape(value)}" data-target="{_TARGET}">{escape(label)}</button>'
        for value, (label, _) in FOLLOWUP_SHORTCUTS.items()
    )


@register.simple_tag
def default_save_button():
    return mark_safe(DEFAULT_SAVE_BUTTON)


@register.simple_tag
def followup_shortcuts(target_id):
    return mark_safe(followup_shortcuts_html(target_id))  # built with html.escape


def lead_card_anchor(lead_id):
    """The id of a lead's card (or row) in a list, the fragment a quick update
    comes back to."""
    return f"lead-{int(lead_id)}"


def after_save_anchors(lead_ids, *, alone="main"):
    """For each lead of a list, where to come back once its quick update is
    saved: the next card (the saved one may leave the list), for the last
    the one before it, for a list of one the element `alone`."""
    ids = list(lead_ids)
    return [
        lead_card_anchor(ids[index + 1]) if index + 1 < len(ids)
        else lead_card_anchor(ids[index - 1]) if index > 0
        else alone
        for index in range(len(ids))
    ]


def render_quick_update_form(item, *, csrf_token, next_url, action_url, anchor=""):
    """The due list's after-call form for one lead (`item`, a due-list dict):
    status, next follow-up (with its shortcuts and the "no follow-up" tick),
    remark, posting to `action_url` and coming back to `next_url`, at the
    element `anchor` (an id: the next card) once saved. Plain
    string building with html.escape: the dashboard renders fifty per page,
    and Django's template engine (or format_html) spends most of a cold
    dashboard's time escaping them."""
    lead_id = int(item["id"])
    return (
        f'<form method="post" action="{escape(action_url)}" class="quick-update"'
        f' aria-label="Update {escape(item["customer_name"])}">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(str(csrf_token))}">'
        f'<input type="hidden" name="next" value="{escape(str(next_url))}">'
        + (f'<input type="hidden" name="anchor" value="{escape(anchor)}">' if anchor else "")
        + f'{DEFAULT_SAVE_BUTTON}'
        f'{outcome_fields_html(lead_id, **item.get("call_input", {}))}'
        # One block per field: a card lays them out (static/css/crm.css).
        f'<div class="qu-field qu-status">'
        f'<label for="qu-{lead_id}-status">Status</label>'
        f'<select id="qu-{lead_id}-status" name="status">{_status_options(item["status"])}</select>'
        f'</div><div class="qu-field qu-followup">'
        f'<label for="qu-{lead_id}-followup">Next follow-up</label>'
        f'<input type="datetime-local" id="qu-{lead_id}-followup" name="followup_date"'
        f' value="{escape(datetime_local(item["followup_date"]))}">'
        f'{followup_shortcuts_html(f"qu-{lead_id}-followup")}'
        f'<label class="checkbox" for="qu-{lead_id}-no-followup">'
        f'<input type="checkbox" id="qu-{lead_id}-no-followup" name="no_followup"'
        f'{" checked" if item.get("no_followup") else ""}>'
        f' {escape(NO_FOLLOWUP_LABEL)}</label>'
        f'</div><div class="qu-field qu-remark">'
        f'<label for="qu-{lead_id}-remark">Remark</label>'
        f'<input type="text" id="qu-{lead_id}-remark" name="remark"'
        f' maxlength="{REMARK_MAX_CHARS}" value="{escape(item.get("remark", ""))}"'
        f' placeholder="Added to the remarks and the call (Lost needs the reason)">'
        f'</div><button type="submit" class="qu-save">Save</button></form>'
    )


@cache
def _quick_update_url():
    return url_for_id("leads:quick_update")


@register.simple_tag(takes_context=True)
def quick_update_form(context, lead):
    """The due list's quick-update form for a Lead on a page of this site,
    coming back to the page it is on (the queues on /leads/)."""
    item = {"id": lead.pk, "customer_name": lead.customer_name, "status": lead.status,
            "followup_date": lead.followup_date}
    return mark_safe(render_quick_update_form(  # built with html.escape
        item, csrf_token=context["csrf_token"], next_url=context["request"].get_full_path(),
        action_url=_quick_update_url()(lead.pk), anchor=getattr(lead, "after_save_anchor", ""),
    ))


@register.simple_tag(takes_context=True)
def quick_update_form_kept(context, item, next_url):
    """The quick-update form filled with what was posted (`item`, as
    render_quick_update_form takes it), for the page that says why it was refused."""
    return mark_safe(render_quick_update_form(  # built with html.escape
        item, csrf_token=context["csrf_token"], next_url=next_url,
        action_url=_quick_update_url()(item["id"]), anchor=item.get("anchor", ""),
    ))
