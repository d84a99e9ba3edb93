"""The due list's cards: one lead per card, a table row at desk width and a
card on a phone (static/css/crm.css, "The due list").

This is the card's template, written as Python: fifty cards of a dozen
values and a form each cost a cold dashboard about 8 ms through Django's
template engine and well under 1 ms as escaped strings
(docs/performance.md). Every value goes through html.escape.

A card is its COLUMNS, in order; each is a header and a function building
that cell from the due item (a dict from selectors.dashboard_due_page) and
the page's CardPage. To show something new on every card, add a column or
extend the function of the block it belongs to:

- `_followup_cell`: when the follow-up is due;
- `_customer_cell`: who (the row's header: the name, links to the lead's
  page) and the calls so far ("3rd try · last: No answer, 11:05");
- `_contact_cell`: the mobile and the Call / WhatsApp (template picker) buttons;
- `_registration_cell`: the car;
- `_owner_cell`: whose lead it is (team views only);
- `_update_cell`: the quick update form (status, next follow-up, remark:
  leads.templatetags.leads_tags.render_quick_update_form).

The status is shown once, as the quick update's selected status.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from html import escape

from calls.rendering import attempts_html
from crm.people_dates import format_for_people
from leads.templatetags.leads_tags import (
    after_save_anchors,
    lead_card_anchor,
    render_quick_update_form,
    url_for_id,
)


@dataclass(frozen=True)
class CardPage:
    """What every card on one page shares."""

    csrf_token: str
    next_url: str
    show_owner: bool  # a manager's team view
    staff: bool  # adds the admin link


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    cell: Callable[[dict, CardPage], str]
    team_only: bool = False


def _followup_cell(item, page):
    when = item["followup_date"]
    return (f'<td class="due-followup" data-label="Follow-up">'
            f'<time datetime="{escape(when)}">'
            f'{escape(format_for_people(datetime.fromisoformat(when)))}</time></td>')


def _customer_cell(item, page):
    lead_id = int(item["id"])
    admin = (f' <a class="due-admin" href="{_admin_url()(lead_id)}">Admin</a>'
             if page.staff else "")
    return (f'<th scope="row" class="due-customer">'
            f'<a href="{_lead_url()(lead_id)}">{escape(item["customer_name"])}</a>{admin}'
            f'{attempts_html(item.get("calls"))}</th>')


def _contact_cell(item, page):
    mobile, name = escape(item["mobile"]), escape(item["customer_name"])
    return (
        f'<td class="due-contact" data-label="Mobile">'
        f'<span class="due-mobile">{mobile}</span>'
        f'<span class="contact-buttons">'
        f'<a class="button call" href="tel:+91{mobile}">Call'
        f'<span class="visually-hidden"> {name}</span></a>'
        # The template picker (whatsapp/): it records the send, then opens wa.me.
        f'<a class="button whatsapp" href="{_whatsapp_url()(int(item["id"]))}">'
        f'WhatsApp<span class="visually-hidden"> {name}</span></a>'
        f'</span></td>'
    )


def _registration_cell(item, page):
    registration = item["car_registration"]
    shown = escape(registration) if registration else '<span class="muted">No registration</span>'
    return f'<td class="due-registration" data-label="Registration">{shown}</td>'


def _owner_cell(item, page):
    return f'<td class="due-owner" data-label="Owner">{escape(item["creator_username"])}</td>'


def _update_cell(item, page):
    form = render_quick_update_form(
        item, csrf_token=page.csrf_token, next_url=page.next_url,
        action_url=_quick_update_url()(int(item["id"])), anchor=item.get("anchor", ""),
    )
    return f'<td class="due-update">{form}</td>'


COLUMNS = (
    Column("followup", "Follow-up", _followup_cell),
    Column("customer", "Customer", _customer_cell),
    Column("contact", "Mobile", _contact_cell),
    Column("registration", "Registration", _registration_cell),
    Column("owner", "Owner", _owner_cell, team_only=True),
    Column("update", "Update", _update_cell),
)


def render_due_cards(items, page):
    """The due list as a table of cards (header row included)."""
    columns = [column for column in COLUMNS if page.show_owner or not column.team_only]
    header = "".join(
        f'<th scope="col" class="due-{column.key}">{escape(column.header)}</th>'
        for column in columns
    )
    rows = []
    anchors = after_save_anchors((item["id"] for item in items), alone="due-heading")
    for item, anchor in zip(items, anchors, strict=True):
        item = {**item, "anchor": anchor}
        lead_id = int(item["id"])
        cells = "".join(column.cell(item, page) for column in columns)
        rows.append(f'<tr class="due-card" id="{lead_card_anchor(lead_id)}" data-lead="{lead_id}">'
                    f"{cells}</tr>")
    return (f'<table class="data due"><thead><tr>{header}</tr></thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody></table>")


@cache
def _lead_url():
    return url_for_id("timeline:lead")


@cache
def _whatsapp_url():
    return url_for_id("whatsapp:picker")


@cache
def _admin_url():
    return url_for_id("admin:leads_lead_change")


@cache
def _quick_update_url():
    return url_for_id("leads:quick_update")
