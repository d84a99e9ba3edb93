"""A manager's bulk reschedule: leads moved to one date, or spread N a day
over working days. Each move writes a work-log row of kind `rescheduled`,
which never counts as a follow-up worked by the telecaller (the dashboard's
initial and worked count `moved` and `closed` rows only)."""

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from leads.models import FIRST_DAY, LAST_DAY, Lead, WorkedLead, WorkKind
from leads.signals import announce_leads_changed

SUNDAY = 6
DEFAULT_TIME = time(10, 0)
# Rows per UPDATE/INSERT: bounded statements, whatever the selection.
RESCHEDULE_BATCH_SIZE = 1000


class RescheduleError(ValueError):
    """The reschedule cannot be done as asked; nothing was written."""


def spread_days(count, *, start, per_day, skip_sundays=True):
    """The day of each of `count` leads, `per_day` a day from `start` on,
    skipping Sundays unless told otherwise."""
    if per_day < 1:
        raise RescheduleError("Spread at least 1 lead a day.")
    days, day = [], start
    while len(days) < count:
        if not (skip_sundays and day.weekday() == SUNDAY):
            days.extend([day] * min(per_day, count - len(days)))
        day += timedelta(days=1)
    if days and days[-1] > LAST_DAY:
        raise RescheduleError(f"The spread would go past {LAST_DAY}: choose more a day.")
    return days


def leads_reschedule(*, leads, by_user, to=None, start=None, per_day=None, at_time=None,
                     skip_sundays=True):
    """Move the follow-up of every lead in the queryset `leads` that is not
    closed: to the moment `to`, or spread `per_day` a day over working days
    from the date `start` at `at_time` (a time, local; default 10:00), oldest
    follow-up first (unscheduled ones last). Returns how many moved.

    Each lead whose follow-up changes gets a `rescheduled` WorkedLead row by
    `by_user` (the manager); nothing else is logged. Bounded statements per
    RESCHEDULE_BATCH_SIZE leads; one announcement for every owner touched.
    """
    if (to is None) == (start is None):
        raise RescheduleError("Choose either one date for all, or a start date to spread from.")
    if start is not None and not FIRST_DAY <= start <= LAST_DAY:
        raise RescheduleError(f"The start date must be between {FIRST_DAY} and {LAST_DAY}.")
    now = timezone.now()
    tz = timezone.get_current_timezone()
    with transaction.atomic():
        rows = list(
            leads.not_closed().select_for_update().order_by("followup_date", "pk")
            .values_list("pk", "creator_id", "followup_date")
        )
        rows.sort(key=lambda row: (row[2] is None, row[2] or now, row[0]))
        if to is not None:
            targets = [to] * len(rows)
        else:
            moment = at_time or DEFAULT_TIME
            targets = [timezone.make_aware(datetime.combine(day, moment), tz)
                       for day in spread_days(len(rows), start=start, per_day=per_day,
                                              skip_sundays=skip_sundays)]
        moved = [(pk, owner, old, new) for (pk, owner, old), new in zip(rows, targets,
                                                                          strict=True)
                 if old != new]
        day = timezone.localdate(now)
        for first in range(0, len(moved), RESCHEDULE_BATCH_SIZE):
            batch = moved[first:first + RESCHEDULE_BATCH_SIZE]
            # The base manager: one announcement for the whole reschedule, below.
            Lead._base_manager.bulk_update(
                [Lead(pk=pk, followup_date=new, modified_at=now) for pk, _, _, new in batch],
                ["followup_date", "modified_at"],
            )
            WorkedLead._base_manager.bulk_create([
                WorkedLead(lead_id=pk, user=by_user, kind=WorkKind.RESCHEDULED, work_date=day,
                           old_followup_date=old, new_followup_date=new, worked_at=now)
                for pk, _, old, new in batch
            ])
        if moved:
            announce_leads_changed(Lead, owner_ids={owner for _, owner, _, _ in moved}
                                   | {by_user.pk})
    return len(moved)
