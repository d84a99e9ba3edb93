"""The call log: one row per call a user made to a lead, with its outcome."""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from calls.counters import CallDayCountManager
from leads.invalidation import InvalidatingQuerySet
from leads.models import REMARK_MAX_CHARS, Lead

# A call's length is at most this (a longer one is a typo, not a call).
MAX_CALL_SECONDS = int(timedelta(hours=4).total_seconds())
NOTE_MAX_CHARS = REMARK_MAX_CHARS


class CallOutcome(models.TextChoices):
    CONNECTED = "connected", "Connected"
    NO_ANSWER = "no_answer", "No answer"
    BUSY = "busy", "Busy"
    SWITCHED_OFF = "switched_off", "Switched off"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    CALL_BACK_LATER = "call_back_later", "Call back later"
    NOT_INTERESTED = "not_interested", "Not interested"


# The outcomes in which a person answered the phone: the dashboard's "connected".
ANSWERED_OUTCOMES = (
    CallOutcome.CONNECTED.value,
    CallOutcome.CALL_BACK_LATER.value,
    CallOutcome.NOT_INTERESTED.value,
    CallOutcome.WRONG_NUMBER.value,
)


class CallLogQuerySet(InvalidatingQuerySet):
    # Bulk writes announce the callers; the service that records a call
    # announces the lead's owner too.
    owner_field = "user"



class CallLog(models.Model):
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="calls",
        db_index=False,  # (lead, called_at) leads with lead_id
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="calls",
        db_index=False,  # (user, called_at, outcome) leads with user_id
        help_text="Who made the call.",
    )
    called_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=20, choices=CallOutcome.choices)
    note = models.TextField(blank=True, validators=[MaxLengthValidator(NOTE_MAX_CHARS)])
    duration = models.PositiveIntegerField(
        null=True, blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_CALL_SECONDS)],
        help_text="Seconds.",
    )

    objects = CallLogQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=CallOutcome.values), name="call_outcome_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(duration__isnull=True)
                | models.Q(duration__gte=0, duration__lte=MAX_CALL_SECONDS),
                name="call_duration_range",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("note"), NOTE_MAX_CHARS),
                name="call_note_length",
            ),
        ]
        indexes = [
            # One user's calls by time (the PROTECT check when a user is
            # deleted). The dashboard's per-day counts read CallDayCount now;
            # these two served them before and still serve a count of a
            # period's calls (the benchmark's baseline).
            models.Index(fields=["user", "called_at", "outcome"], name="call_user_called_idx"),
            # The whole team's calls of a period, grouped by caller.
            models.Index(fields=["called_at", "user", "outcome"], name="call_called_user_idx"),
            # A lead's calls: attempts, the last one, its history newest first.
            models.Index(fields=["lead", "called_at"], name="call_lead_called_idx"),
        ]

    def __str__(self):
        return f"{self.get_outcome_display()} call to lead {self.lead_id} by {self.user_id}"


class CallDayCount(models.Model):
    """Per (caller, business day): how many calls they made (`attempts`) and
    how many were answered (`connected`: ANSWERED_OUTCOMES). The day is
    called_at's date in TIME_ZONE.

    Kept by database triggers on calls_calllog (calls/counters.py, installed
    by migration 0002, reinstalled for the current TIME_ZONE by
    ``objects.rebuild()``), so every write path counts; nothing in Python
    writes it except ``rebuild()``. One row per (user, day), added to in
    place: see calls/counters.py for why not append-only deltas. A row can
    hold zeros once its calls are deleted or moved; readers skip those. The
    dashboard reads the day's and the trend's calls from here, so their cost
    does not grow with the calls made a day.
    """

    # No database constraint: triggers write this table, and a user who made
    # calls cannot be deleted (CallLog.user is PROTECT).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
        db_index=False,  # the (user, day) unique constraint leads with user_id
        related_name="+",
    )
    day = models.DateField()
    attempts = models.BigIntegerField()
    connected = models.BigIntegerField()

    objects = CallDayCountManager()

    class Meta:
        constraints = [
            # The upserts' conflict target; also serves one user's days.
            models.UniqueConstraint(fields=["user", "day"], name="calldaycount_user_day_uniq"),
        ]
        indexes = [
            # The team's rows for a day (the day's team rows, the trend).
            models.Index(fields=["day"], name="calldaycount_day_idx"),
        ]

    def __str__(self):
        return f"{self.user_id}/{self.day}: {self.attempts} calls, {self.connected} connected"
