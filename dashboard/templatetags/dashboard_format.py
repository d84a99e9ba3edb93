"""Formatting for the dashboard's plain data (selectors return values, not models)."""

from datetime import date, datetime
from html import escape

from django import template
from django.utils.safestring import mark_safe

from crm.people_dates import format_for_people
from dashboard.due_cards import CardPage, render_due_cards
from dashboard.team_table import render_team_rows

register = template.Library()


@register.filter
def iso_datetime(value):
    """An ISO 8601 timestamp for people ("30 Nov 2026, 17:30", DATETIME_FORMAT),
    in the offset it carries (TIME_ZONE)."""
    try:
        return format_for_people(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return ""


@register.filter
def iso_date(value):
    """An ISO 8601 date for people ("30 Nov 2026", DATE_FORMAT)."""
    try:
        return format_for_people(date.fromisoformat(value), "DATE_FORMAT")
    except (TypeError, ValueError):
        return ""


@register.simple_tag(takes_context=True)
def due_cards(context, items):
    """The due list: one card per lead (dashboard/due_cards.py), the owner
    shown in a manager's team view only (no `data.user`). `is_staff` in the
    context adds the admin link."""
    data = context.get("data") or {}
    page = CardPage(
        csrf_token=context.get("csrf_token", ""), next_url=context.get("next_url", ""),
        show_owner=bool(context.get("is_manager")) and not data.get("user"),
        staff=bool(context.get("is_staff", False)),
    )
    return mark_safe(render_due_cards(items, page))  # built with html.escape


@register.simple_tag
def team_rows(rows):
    """The team table's rows (dashboard/team_table.py)."""
    return mark_safe(render_team_rows(rows))  # built with html.escape


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
