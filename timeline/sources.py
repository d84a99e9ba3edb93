"""The kinds of event a lead's timeline shows, one source each.

A source is a function ``(lead, *, limit) -> [TimelineEvent]`` returning the
lead's newest `limit` events of its kind, newest first, in one indexed query.
SOURCES lists them; adding a kind (calls, owner changes) is one function and
one entry there. selectors.lead_timeline merges them.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format

from leads.history import VIA_ADMIN, VIA_API, VIA_IMPORT, VIA_OUTSIDE, VIA_SCRIPT
from leads.models import LeadChange, LeadChangeKind, LeadStatus, WorkedLead, WorkKind
from whatsapp.selectors import sends_for_lead

# How each channel is named after the actor ("asha · in admin").
VIA_LABELS = {VIA_ADMIN: "in admin", VIA_IMPORT: "import", VIA_API: "API"}
FIELD_LABELS = {
    "customer_name": "Name", "mobile": "Mobile", "car_registration": "Registration",
}


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    kind: str  # a CSS-friendly word: status, followup, correction, remark, whatsapp, created, …
    title: str
    actor: str
    detail: str = ""
    via: str = ""
    # Orders events of the same moment: the source's position, then its row id.
    tie: tuple = ()

    @property
    def sort_key(self):
        return (self.at, *self.tie)


def _when(value):
    return date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else "none"


def _status(value):
    try:
        return LeadStatus(value).label
    except ValueError:
        return value


def _actor(user, via, user_id=None):
    if user is not None:
        return user.get_username()
    if user_id is not None:
        return "a deleted user"
    if via == VIA_OUTSIDE:
        return "outside the product"
    return "the system" if via == VIA_SCRIPT else "unknown user"


def _change_event(change, rank):
    title, detail, kind = "", "", "correction"
    if change.kind == LeadChangeKind.CREATED:
        kind = "created"
        title = "Lead imported" if change.via == VIA_IMPORT else "Lead created"
        detail = change.new_value
    elif change.kind == LeadChangeKind.DELETED:
        kind, title, detail = "deleted", "Lead deleted", change.old_value
    elif change.kind == LeadChangeKind.REMARK_ADDED:
        kind, title, detail = "remark", "Remark", change.new_value
    elif change.field == "status":
        kind = "status"
        title = f"Status: {_status(change.old_value)} → {_status(change.new_value)}"
    elif change.field == "remarks":
        title = "Remarks corrected"
        detail = f"Before:\n{change.old_value}\n\nAfter:\n{change.new_value}"
    else:
        label = FIELD_LABELS.get(change.field, change.field)
        title = f"{label} corrected: {change.old_value or '—'} → {change.new_value or '—'}"
    return TimelineEvent(
        at=change.changed_at, kind=kind, title=title, detail=detail,
        actor=_actor(change.actor, change.via, change.actor_id),
        via=VIA_LABELS.get(change.via, ""),
        tie=(rank, change.pk),
    )


def lead_changes(lead, *, limit):
    """Creation, status changes, corrections and remark lines (LeadChange)."""
    rows = (LeadChange.objects.filter(lead_id=lead.pk).select_related("actor")
            .order_by("-changed_at", "-id")[:limit])
    return [_change_event(row, 2) for row in rows]


def _work_title(row):
    old, new = _when(row.old_followup_date), _when(row.new_followup_date)
    if row.kind == WorkKind.CLOSED:
        if row.old_followup_date == row.new_followup_date:
            return f"Closed (follow-up was {old})"
        return f"Closed; follow-up {old} → {new}"
    if row.kind == WorkKind.RESCHEDULED:
        return f"Follow-up rescheduled by a manager: {old} → {new}"
    return f"Follow-up moved: {old} → {new}"


def followup_work(lead, *, limit):
    """Follow-up moves and closings (the work log, WorkedLead)."""
    rows = (WorkedLead.objects.filter(lead_id=lead.pk).select_related("user")
            .order_by("-worked_at", "-id")[:limit])
    return [TimelineEvent(at=row.worked_at, kind="followup", title=_work_title(row),
                          actor=row.user.get_username(), tie=(1, row.pk))
            for row in rows]


def whatsapp_messages(lead, *, limit):
    """WhatsApp messages sent from the lead."""
    return [TimelineEvent(at=send.sent_at, kind="whatsapp",
                          title=f"WhatsApp sent: {send.template_name}", detail=send.text,
                          actor=send.user.get_username(), tie=(0, send.pk))
            for send in sends_for_lead(lead, limit=limit)]


SOURCES = (lead_changes, followup_work, whatsapp_messages)


