"""The kinds of event a lead's timeline shows, one source each.

A source is a function ``(lead, *, limit) -> [TimelineEvent]`` returning the
lead's newest `limit` events of its kind, newest first, in one indexed query.
SOURCES lists them; adding a kind (calls, owner changes) is one function and
one entry there. selectors.lead_timeline merges them.

Sources read plain values, not model instances, and describe an event
(title, who, details) only when it is shown: a page merges up to 51 events
of each kind and shows 50 of them (docs/performance.md).
"""

from functools import lru_cache, partial

from django.db import connections, router
from django.utils import timezone

from calls.models import CallLog
from calls.rendering import outcome_label
from crm.people_dates import format_for_people
from crm.raw_sql import datetime_reader
from leads.history import VIA_ADMIN, VIA_API, VIA_IMPORT, VIA_OUTSIDE, VIA_SCRIPT
from leads.models import (
    LeadChange,
    LeadChangeKind,
    LeadStatus,
    OwnerChange,
    OwnerChangeRule,
    WorkedLead,
    WorkKind,
)
from whatsapp.models import WhatsAppSend

# How each channel is named after the actor ("asha · in admin").
VIA_LABELS = {VIA_ADMIN: "in admin", VIA_IMPORT: "import", VIA_API: "API"}
FIELD_LABELS = {
    "customer_name": "Name", "mobile": "Mobile", "car_registration": "Registration",
}
DESCRIPTION_KEYS = ("kind", "title", "actor", "detail", "via")


class TimelineEvent:
    """One event: `at` (aware datetime), `tie` (orders events of the same
    moment: the source's rank, then its row id) and the description: `kind`
    (a CSS-friendly word: status, followup, correction, remark, whatsapp,
    created, deleted, …), `title`, `actor`, `detail`, `via`.

    Give the description directly (keywords) or as `describe`, a callable
    returning a dict of those keys, called only if the event is shown.
    """

    __slots__ = ("at", "tie", "_describe", "_description")

    def __init__(self, *, at, tie=(), describe=None, **description):
        self.at, self.tie = at, tie
        self._describe = describe
        self._description = description if describe is None else None

    @property
    def sort_key(self):
        return (self.at, *self.tie)

    def _described(self):
        if self._description is None:
            self._description = self._describe()
        return self._description

    def __getattr__(self, name):
        if name in DESCRIPTION_KEYS:
            return self._described().get(name, "")
        raise AttributeError(name)

    def __repr__(self):
        return f"<TimelineEvent {self.at.isoformat()} {self.kind}: {self.title}>"


def _when(value):
    return format_for_people(timezone.localtime(value)) if value else "none"


# Stands for the lead's id while a source's statement is compiled; no lead has it.
_LEAD = -(2**62)


class NewestRows:
    """A source's query: `build(lead_id)`, a values_list queryset of `model`
    newest first, whose columns at `datetimes` are datetimes. Called with a
    lead id and a limit it returns that many rows, as tuples.

    The ORM compiles the statement once per database and limit (page), with
    a placeholder for the lead's id: compiling five of them cost the lead
    page about 2 ms of Python on every request, and reading rows back
    through the ORM about as much again, against 1.5 ms in the database."""

    def __init__(self, model, build, *, datetimes=(0,)):
        self.model, self.build, self.datetimes = model, build, datetimes
        self.compiled = lru_cache(maxsize=16)(self._compile)

    def _compile(self, alias, limit):
        sql, params = self.build(_LEAD).using(alias)[:limit].query.sql_with_params()
        if list(params).count(_LEAD) != 1:
            raise ValueError(f"{self.model.__name__}: the lead's id must be one parameter")
        return sql, tuple(params)

    def __call__(self, lead_id, *, limit):
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        sql, params = self.compiled(alias, limit)
        with connection.cursor() as cursor:
            cursor.execute(sql, [lead_id if param == _LEAD else param for param in params])
            rows = cursor.fetchall()
        stored = datetime_reader(connection)  # SQLite returns text
        return [tuple(stored(value) if index in self.datetimes else value
                      for index, value in enumerate(row)) for row in rows]


def _status(value):
    try:
        return LeadStatus(value).label
    except ValueError:
        return value


def _actor(username, via, user_id=None):
    if username is not None:
        return username
    if user_id is not None:
        return "a deleted user"
    if via == VIA_OUTSIDE:
        return "outside the product"
    if via == VIA_IMPORT:
        return "the command line"
    return "the system" if via == VIA_SCRIPT else "unknown user"


CHANGE_COLUMNS = ("changed_at", "id", "kind", "field", "old_value", "new_value", "via",
                  "actor_id", "actor__username")


def _describe_change(kind, field, old, new, via, actor_id, username):
    detail, shown = "", "correction"
    if kind == LeadChangeKind.CREATED:
        title = "Lead imported" if via == VIA_IMPORT else "Lead created"
        shown, detail = "created", new
    elif kind == LeadChangeKind.DELETED:
        shown, title, detail = "deleted", "Lead deleted", old
    elif kind == LeadChangeKind.REMARK_ADDED:
        shown, title, detail = "remark", "Remark", new
    elif field == "status":
        shown, title = "status", f"Status: {_status(old)} → {_status(new)}"
    elif field == "remarks":
        title, detail = "Remarks corrected", f"Before:\n{old}\n\nAfter:\n{new}"
    else:
        title = f"{FIELD_LABELS.get(field, field)} corrected: {old or '—'} → {new or '—'}"
    return {"kind": shown, "title": title, "detail": detail,
            "actor": _actor(username, via, actor_id), "via": VIA_LABELS.get(via, "")}


_CHANGES = NewestRows(LeadChange, lambda lead_id: (
    LeadChange.objects.filter(lead_id=lead_id).order_by("-changed_at", "-id")
    .values_list(*CHANGE_COLUMNS)))


def lead_changes(lead, *, limit):
    """Creation, status changes, corrections and remark lines (LeadChange)."""
    rows = _CHANGES(lead.pk, limit=limit)
    return [TimelineEvent(at=at, tie=(2, pk), describe=partial(_describe_change, *rest))
            for at, pk, *rest in rows]


def _describe_work(kind, old, new, username):
    if kind == WorkKind.CLOSED:
        title = (f"Closed (follow-up was {_when(old)})" if old == new
                 else f"Closed; follow-up {_when(old)} → {_when(new)}")
    elif kind == WorkKind.RESCHEDULED:
        title = f"Follow-up rescheduled by a manager: {_when(old)} → {_when(new)}"
    else:
        title = f"Follow-up moved: {_when(old)} → {_when(new)}"
    return {"kind": "followup", "title": title, "actor": username}


_WORK = NewestRows(WorkedLead, lambda lead_id: (
    WorkedLead.objects.filter(lead_id=lead_id).order_by("-worked_at", "-id")
    .values_list("worked_at", "id", "kind", "old_followup_date", "new_followup_date",
                 "user__username")), datetimes=(0, 3, 4))


def followup_work(lead, *, limit):
    """Follow-up moves and closings (the work log, WorkedLead)."""
    rows = _WORK(lead.pk, limit=limit)
    return [TimelineEvent(at=at, tie=(1, pk), describe=partial(_describe_work, *rest))
            for at, pk, *rest in rows]


def _describe_send(template_name, text, username):
    return {"kind": "whatsapp", "title": f"WhatsApp sent: {template_name}", "detail": text,
            "actor": username}


_SENDS = NewestRows(WhatsAppSend, lambda lead_id: (
    WhatsAppSend.objects.filter(lead_id=lead_id).order_by("-sent_at", "-id")
    .values_list("sent_at", "id", "template_name", "text", "user__username")))


def whatsapp_messages(lead, *, limit):
    """WhatsApp messages sent from the lead."""
    return [TimelineEvent(at=at, tie=(0, pk), describe=partial(_describe_send, *rest))
            for at, pk, *rest in _SENDS(lead.pk, limit=limit)]


def _describe_call(outcome, note, duration, username):
    length = f" · {duration // 60} min {duration % 60} s" if duration else ""
    return {"kind": "call", "title": f"Call: {outcome_label(outcome)}{length}", "detail": note,
            "actor": username}


_CALLS = NewestRows(CallLog, lambda lead_id: (
    CallLog.objects.filter(lead_id=lead_id).order_by("-called_at", "-pk")
    .values_list("called_at", "id", "outcome", "note", "duration", "user__username")))


def calls(lead, *, limit):
    """Calls made to the lead, with their outcomes (calls.CallLog)."""
    rows = _CALLS(lead.pk, limit=limit)
    return [TimelineEvent(at=at, tie=(3, pk), describe=partial(_describe_call, *rest))
            for at, pk, *rest in rows]


def _describe_owner_change(rule, from_username, to_username, by_username):
    origin = f"from {from_username}" if from_username else "from the intake queue"
    return {"kind": "owner", "title": f"Owner: {to_username} ({origin})",
            "detail": f"Rule: {OwnerChangeRule(rule).label}" if rule in OwnerChangeRule.values
            else f"Rule: {rule}",
            "actor": by_username or "the command line"}


_OWNERS = NewestRows(OwnerChange, lambda lead_id: (
    OwnerChange.objects.filter(lead_id=lead_id).order_by("-changed_at", "-id")
    .values_list("changed_at", "id", "rule", "from_user__username", "to_user__username",
                 "changed_by__username")))


def owner_changes(lead, *, limit):
    """Changes of the lead's owner (leads.OwnerChange): assignment, hand-over, admin."""
    rows = _OWNERS(lead.pk, limit=limit)
    return [TimelineEvent(at=at, tie=(4, pk), describe=partial(_describe_owner_change, *rest))
            for at, pk, *rest in rows]


SOURCES = (lead_changes, followup_work, whatsapp_messages, calls, owner_changes)
