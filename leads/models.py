from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from leads import history, permissions
from leads.counters import LeadCountDeltaManager, LeadDayDeltaManager
from leads.invalidation import InvalidatingQuerySet
from leads.name_search import NameWordsStartWith, name_search_words
from leads.normalization import (
    could_start_registration,
    has_visible_character,
    mobile_search_prefix,
    normalize_mobile,
    normalize_registration,
    registration_search_prefix,
)
from leads.signals import announce_leads_changed

# The business days the CRM accepts anywhere (dashboard, follow-ups, jobs):
# outside them a date is a typo, and far outside them time-zone arithmetic
# overflows.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)


def parse_day(value):
    """A YYYY-MM-DD string as a date within FIRST_DAY..LAST_DAY, or ValueError
    with a message for the user."""
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise ValueError(
            f"must be a calendar date as YYYY-MM-DD (e.g. 2026-11-28); got {value!r}."
        ) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}; got {value!r}.")
    return day


def day_bounds(day):
    """[day 00:00, day+1 00:00) in the current time zone, as aware datetimes."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), tz)
    return start, end


# One remark (a quick update's line) and the whole call log a lead keeps. A
# save that would go past either is refused, never cut: the log is the record
# of every call.
REMARK_MAX_CHARS = 1_000
REMARKS_MAX_CHARS = 100_000


def validate_customer_name(value):
    if not (value or "").strip():
        raise ValidationError("Enter the customer's name.", code="blank_name")
    if not has_visible_character(value):
        raise ValidationError(
            "Enter the customer's name: this one has only invisible characters "
            "(such as zero-width spaces).",
            code="invisible_name",
        )


def validate_remark(value):
    if len(value or "") > REMARK_MAX_CHARS:
        raise ValidationError(
            f"A remark can have at most {REMARK_MAX_CHARS:,} characters; this one has "
            f"{len(value):,}. Nothing was saved.",
            code="remark_too_long",
        )


def validate_remarks_length(value):
    if len(value or "") > REMARKS_MAX_CHARS:
        raise ValidationError(
            f"The remarks (the lead's call log) can hold at most {REMARKS_MAX_CHARS:,} "
            f"characters; with this change they would have {len(value):,}. Nothing was "
            "saved: shorten the remarks first.",
            code="remarks_too_long",
        )


# source, car_model and service_type: short labels.
LEAD_TAG_MAX_CHARS = 100


def validate_lead_tag(value):
    if value and not has_visible_character(value):
        raise ValidationError(
            "Leave this blank or enter text: this one has only invisible characters.",
            code="invisible_text",
        )


def validate_lead_owner(user):
    if not user.is_active:
        raise ValidationError(
            f"{user.get_username()} is inactive and cannot own leads: choose an active user.",
            code="inactive_owner",
        )


def validate_followup_range(value):
    if value is not None and not FIRST_DAY <= timezone.localtime(value).date() <= LAST_DAY:
        raise ValidationError("Choose a follow-up between 2000 and 2100.", code="followup_range")


class MobileNumberField(models.CharField):
    """Stores an Indian mobile as its 10 digits, whatever formatting came in."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 15)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        return normalize_mobile(value)

    def pre_save(self, model_instance, add):
        # Programmatic saves (services, shell, loaders through the ORM) get
        # the same rule as forms: normalised, or refused.
        value = normalize_mobile(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value

    def formfield(self, **kwargs):
        # Formatted input ("+91 98290-12345") is longer than the stored form.
        return super().formfield(**{"max_length": 25, **kwargs})


class RegistrationField(models.CharField):
    """Stores a car registration upper-case without spaces or dashes."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return ""
        return normalize_registration(value)

    def pre_save(self, model_instance, add):
        value = normalize_registration(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value

    def formfield(self, **kwargs):
        return super().formfield(**{"max_length": 30, **kwargs})


class LeadStatus(models.TextChoices):
    DID_NOT_PICK_UP = "did_not_pick_up", "Did Not Pick Up"
    NEEDS_FOLLOWUP = "needs_followup", "Needs Followup"
    CONFIRMED = "confirmed", "Confirmed"
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"
    FEEDBACK = "feedback", "Feedback"
    LOST = "lost", "Lost"


# A closed lead needs no more follow-up: the service was done (completed) or
# the customer is not coming (lost). Every other status, the stored `open`
# included, is "not closed".
CLOSED_STATUSES = (LeadStatus.COMPLETED.value, LeadStatus.LOST.value)

# The telecaller's work queues on /leads/?due=... (LeadQuerySet.due_queue).
DUE_QUEUES = ("today", "overdue", "unscheduled")


class LeadQuerySet(InvalidatingQuerySet):
    owner_field = "creator"

    # Every write of this queryset carries the history stamp (leads/history.py):
    # the triggers record it as the acting user's, in one statement per batch.
    def update(self, **kwargs):
        kwargs = {**history.stamp(), **kwargs}
        # The row's version moves with every change: an edit form opened
        # before a bulk change then reports a conflict instead of undoing it.
        kwargs.setdefault("modified_at", timezone.now())
        return super().update(**kwargs)

    update.alters_data = True

    def update_owned_by(self, owner_ids, **kwargs):
        kwargs = {**history.stamp(), **kwargs}
        kwargs.setdefault("modified_at", timezone.now())
        return super().update_owned_by(owner_ids, **kwargs)

    update_owned_by.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            obj.stamp_history()
        return super().bulk_create(objs, *args, **kwargs)

    bulk_create.alters_data = True

    def delete(self):
        with transaction.atomic(using=self.db, savepoint=False):
            # Stamped first, so the delete trigger knows who deleted them.
            self.model._base_manager.using(self.db).filter(
                pk__in=self.order_by().values("pk")
            ).update(**history.stamp(deleting=True), modified_at=timezone.now())
            return super().delete()

    delete.alters_data = True
    delete.queryset_only = True

    def _cascade_owner_ids(self):
        # Deleting leads deletes their worked follow-ups, which count on the
        # trend of whoever worked them (not always the lead's owner).
        return set(
            WorkedLead.objects.filter(lead__in=self.order_by().values("pk"))
            .order_by().values_list("user_id", flat=True).distinct()
        )

    def owned_by(self, user):
        return self.filter(creator=user)

    def visible_to(self, user):
        """All leads for a manager, the user's own for anyone else."""
        if permissions.user_sees_all_leads(user):
            return self
        return self.owned_by(user)

    def with_mobile(self, mobile):
        """Leads whose stored mobile equals `mobile` in any accepted format
        (raises ValidationError when it is not a mobile)."""
        return self.filter(mobile=normalize_mobile(mobile))

    def search(self, term, *, names=False):
        """Leads matching a search-box term.

        A mobile in any format (or a prefix of one) matches by prefix on the
        normalised mobile, through its pattern-ops index (LIKE 'x%', never a
        leading wildcard). Any other term matches leads whose customer name
        has a word starting with each of the term's words
        (leads/name_search.py, index-served on PostgreSQL), or whose
        registration starts with the term. With `names=True` (admin) the
        name part matches anywhere inside the name instead: a scan. A term
        with no letters or digits matches nothing; a blank term everything.
        """
        term = term.strip()
        if not term:
            return self
        mobile = mobile_search_prefix(term)
        if mobile is not None:
            return self.filter(mobile__startswith=mobile)
        registration = registration_search_prefix(term)
        if names:
            if registration is not None and any(ch.isdigit() for ch in registration):
                return self.filter(car_registration__startswith=registration)
            condition = Q(customer_name__icontains=term)
        else:
            words = name_search_words(term)
            if not words:
                return self.none()
            condition = Q(NameWordsStartWith("customer_name", words=words))
        # A name search ORed with a registration that cannot exist would only
        # make PostgreSQL recheck every name match row by row.
        if registration is not None and (names or could_start_registration(registration)):
            condition |= Q(car_registration__startswith=registration)
        return self.filter(condition)

    def created_within(self, start, end):
        return self.filter(created_at__gte=start, created_at__lt=end)

    def followup_within(self, start, end):
        return self.filter(followup_date__gte=start, followup_date__lt=end)

    def followup_on(self, day):
        """Leads whose next call falls within the business day `day`."""
        return self.followup_within(*day_bounds(day))

    def followup_before(self, moment):
        return self.filter(followup_date__lt=moment)

    def overdue_on(self, day):
        """Leads not closed whose follow-up is before the business day `day`
        starts (the dashboard's "overdue", as the data stands now)."""
        return self.not_closed().followup_before(day_bounds(day)[0])

    def unscheduled(self):
        """Leads not closed with no follow-up at all."""
        return self.not_closed().filter(followup_date=None)

    def due_queue(self, due, *, day):
        """The work queue `due` (one of DUE_QUEUES) for the business day `day`,
        in working order: today's follow-ups by time, overdue ones oldest
        follow-up first, unscheduled ones oldest created first (pk breaks
        ties, so paging is stable). Overdue is served by the not-closed
        (creator, followup_date) index for one owner, by the followup_date
        index for the team."""
        if due == "today":
            return self.due_on(day).order_by("followup_date", "pk")
        if due == "overdue":
            return self.overdue_on(day).order_by("followup_date", "pk")
        if due == "unscheduled":
            return self.unscheduled().order_by("created_at", "pk")
        raise ValueError(f"Unknown queue {due!r}.")

    def due_on(self, day):
        """The leads to follow up within the business day `day`: their follow-up
        falls within it and they are not closed (the dashboard's "pending")."""
        return self.followup_on(day).not_closed()

    def worked_off(self, day):
        """Leads the work log shows were worked off the business day `day`: a
        row of kind moved or closed made during `day` whose old follow-up was
        within it, and not due on `day` now (moved elsewhere, or closed).

        A lead with several such rows appears once per row: count distinct.
        """
        start, end = day_bounds(day)
        # One filter() call: the conditions hold for the same work-log row.
        return self.filter(
            worked__work_date=day,
            worked__kind__in=FOLLOWUP_WORK_KINDS,
            worked__old_followup_date__gte=start,
            worked__old_followup_date__lt=end,
        ).filter(
            Q(followup_date=None) | Q(followup_date__lt=start) | Q(followup_date__gte=end)
            | Q(status__in=CLOSED_STATUSES)
        )

    def new_for(self, user):
        """The user's leads that someone else gave them and they have not
        updated since ("New for you")."""
        return self.filter(creator=user, new_for_owner=True)

    def closed(self):
        """Leads needing no more follow-up: completed or lost."""
        return self.filter(status__in=CLOSED_STATUSES)

    def not_closed(self):
        """Leads still to be followed up: every status but completed and lost."""
        return self.exclude(status__in=CLOSED_STATUSES)


class Lead(models.Model):
    # A field validator, not Model.clean(): full_clean(exclude=...) then skips
    # it when only other fields change (a loader may have left a blank name).
    customer_name = models.CharField(max_length=100, validators=[validate_customer_name])
    mobile = MobileNumberField()
    car_registration = RegistrationField(blank=True)
    followup_date = models.DateTimeField(
        null=True, blank=True, validators=[validate_followup_range]
    )
    remarks = models.TextField(blank=True, validators=[validate_remarks_length])
    status = models.CharField(
        max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEEDS_FOLLOWUP
    )
    # Where the lead came from and what it is about. Database defaults too, so
    # the COPY loaders (leads/demo_data.py) and raw SQL that predate them work.
    source = models.CharField(
        max_length=LEAD_TAG_MAX_CHARS, blank=True, default="", db_default="",
        validators=[validate_lead_tag],
        help_text="Where the lead came from, e.g. campaign, website, walk-in.",
    )
    car_model = models.CharField(
        max_length=LEAD_TAG_MAX_CHARS, blank=True, default="", db_default="",
        validators=[validate_lead_tag],
    )
    service_type = models.CharField(
        max_length=LEAD_TAG_MAX_CHARS, blank=True, default="", db_default="",
        validators=[validate_lead_tag],
    )
    # When the lead reached its owner (imports and the intake queue set it on
    # assignment; the queue entry keeps when it arrived).
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(auto_now=True)
    # No single-column index of its own: (creator, followup_date) leads with
    # creator_id and serves every "owned by" filter.
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="leads",
        db_index=False,
    )
    # True while the lead waits for its owner's first update after someone
    # else gave it to them (queue, hand-over, reassignment): "New for you".
    # Written by those services and cleared by the owner's own update, so a
    # page that only reads it never writes. A database default: loaders and
    # existing rows are not new for anyone.
    new_for_owner = models.BooleanField(default=False, db_default=False)
    # Who is making the current write, for the history triggers
    # (leads/history.py); no page shows them. No foreign-key constraint: a
    # stamp must never block deleting a user who wrote leads.
    history_actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False,
        on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+",
    )
    # NULL rather than '': an outside INSERT that leaves it out needs no default.
    history_via = models.CharField(  # noqa: DJ001
        max_length=10, null=True, blank=True, editable=False
    )
    history_token = models.BigIntegerField(null=True, blank=True, editable=False)

    objects = LeadQuerySet.as_manager()

    class Meta:
        permissions = [("view_team_dashboard", "Can view the whole team's dashboard")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=LeadStatus.values),
                name="lead_status_valid",
            ),
        ]
        indexes = [
            # Also serves (creator_id) alone: every "owned by" filter, and
            # range scans over all of one creator's follow-ups.
            models.Index(fields=["creator", "followup_date"], name="lead_creator_followup_idx"),
            # Team-wide follow-ups due within a day.
            models.Index(fields=["followup_date"], name="lead_followup_idx"),
            # The leads still to be followed up, per creator: pending, overdue
            # (by age) and unscheduled (IS NULL) are index-only range counts,
            # and the due list a range scan, however many closed leads pile up.
            # The condition is the one not_closed() writes, so planners match it.
            models.Index(
                fields=["creator", "followup_date"],
                name="lead_not_closed_followup_idx",
                condition=~Q(status__in=CLOSED_STATUSES),
            ),
            # Also serves (status) alone: status filters, newest first.
            models.Index(fields=["status", "created_at"], name="lead_status_created_idx"),
            # New leads within a day; the newest-first lists.
            models.Index(fields=["created_at"], name="lead_created_idx"),
            # A user's new leads within a day; "my leads", newest first.
            models.Index(fields=["creator", "created_at"], name="lead_creator_created_idx"),
            # Exact and prefix search (LIKE 'x%'): pattern ops work whatever
            # the database collation is.
            models.Index(
                fields=["mobile"], name="lead_mobile_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["car_registration"],
                name="lead_registration_idx",
                opclasses=["varchar_pattern_ops"],
            ),
            # "New for you (n)" and its list, newest first: a count per owner
            # over the few leads that wait for their owner's first update.
            models.Index(
                fields=["creator", "created_at"], name="lead_new_for_owner_idx",
                condition=Q(new_for_owner=True),
            ),
        ]

    def __str__(self):
        return f"{self.customer_name} ({self.mobile})"

    def save(self, *args, **kwargs):
        # Normalise (or refuse) before the save opens its transaction, so a
        # bad value fails cleanly instead of breaking the caller's atomic block.
        self.customer_name = (self.customer_name or "").strip()
        self.mobile = normalize_mobile(self.mobile)
        self.car_registration = normalize_registration(self.car_registration)
        self.stamp_history()
        update_fields = kwargs.get("update_fields")
        if update_fields:
            kwargs["update_fields"] = {*update_fields, *HISTORY_STAMP_FIELDS}
        super().save(*args, **kwargs)

    def stamp_history(self):
        """Mark this instance's next write as made by the acting user."""
        for attname, value in history.stamp().items():
            setattr(self, attname, value)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # Remembered so a save that changes the owner invalidates both owners.
        instance._loaded_creator_id = instance.__dict__.get("creator_id")
        return instance

    def delete(self, *args, **kwargs):
        # An override rather than a post_delete receiver: a receiver would
        # turn off Django's fast delete for every bulk delete of leads.
        owners = {self.creator_id, *self.worked.values_list("user_id", flat=True)}
        using = kwargs.get("using") or self._state.db
        with transaction.atomic(using=using):
            # Stamped first, so the delete trigger knows who deleted it.
            Lead._base_manager.using(using).filter(pk=self.pk).update(
                **history.stamp(deleting=True), modified_at=timezone.now()
            )
            result = super().delete(*args, **kwargs)
        announce_leads_changed(Lead, owner_ids=owners, using=kwargs.get("using"))
        return result


HISTORY_STAMP_FIELDS = ("history_actor", "history_via", "history_token")


class LeadChangeKind(models.TextChoices):
    CREATED = "created", "Lead created"
    CHANGED = "changed", "Field changed"
    REMARK_ADDED = "remark_added", "Remark added"
    DELETED = "deleted", "Lead deleted"


class LeadChange(models.Model):
    """The lead change history: one row per lead created or deleted, per
    tracked field changed (customer_name, mobile, car_registration, status,
    remarks) and per remark line added.

    Written only by the database triggers on leads_lead (migration
    0014_lead_history), so every write path is recorded: saves, bulk
    updates and creates (one INSERT per statement on PostgreSQL), deletes,
    and SQL run straight against the table (`via` = ``outside``, no actor).
    Follow-up changes are the work log's (WorkedLead), owner changes their
    own. Rows outlive their lead: no foreign-key constraint, no cascade.
    docs/history.md.
    """

    lead = models.ForeignKey(
        Lead, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
        related_name="changes",
    )
    kind = models.CharField(max_length=20, choices=LeadChangeKind.choices)
    # The field changed ('' for created and deleted).
    field = models.CharField(max_length=30, blank=True)
    # Created: '' -> "name (mobile)"; deleted: "name (mobile)" -> '';
    # remark_added: '' -> the line added.
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
        db_constraint=False, db_index=False, related_name="+",
    )
    via = models.CharField(max_length=10)
    changed_at = models.DateTimeField()

    class Meta:
        indexes = [
            # A lead's history, newest first (the lead page's timeline).
            models.Index(fields=["lead", "changed_at", "id"], name="leadchange_lead_time_idx"),
        ]

    def __str__(self):
        return f"{self.lead_id} {self.kind} {self.field} at {self.changed_at}"


class OwnerChangeRule(models.TextChoices):
    MANUAL = "manual", "Manual"
    ROUND_ROBIN = "round-robin", "Round-robin"
    LEAST_LOADED = "least-loaded", "Least-loaded"
    HAND_OVER = "hand-over", "Hand-over"
    IMPORT = "import", "Import"


class OwnerChange(models.Model):
    """One change of a lead's owner: from (null when the lead came from the
    intake queue), to, by whom (null: the command line) and by which rule.

    Append-only; written by the services in the same transaction as the
    change, in bulk (one INSERT per batch)."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="owner_changes",
                             db_index=False)  # (lead, changed_at) leads with lead_id
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", db_index=False,
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False,
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", db_index=False,
    )
    changed_at = models.DateTimeField(default=timezone.now)
    rule = models.CharField(max_length=20, choices=OwnerChangeRule.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rule__in=OwnerChangeRule.values),
                name="owner_change_rule_valid",
            ),
        ]
        indexes = [
            # A lead's history, oldest first.
            models.Index(fields=["lead", "changed_at"], name="owner_change_lead_idx"),
            # Leads a user received today (the daily cap).
            models.Index(fields=["to_user", "changed_at"], name="owner_change_to_user_idx"),
        ]

    def __str__(self):
        return f"{self.lead_id}: {self.from_user_id} -> {self.to_user_id} ({self.rule})"


class LeadCountDelta(models.Model):
    """Append-only changes to the lead counts per (creator, status): the sum
    of all rows is how many leads each creator has in each status, and how
    many of them have a follow-up date.

    Database triggers on leads_lead write it (migration 0004), so the ORM,
    COPY loaders and raw SQL scripts all keep it right; nothing in Python
    writes it except compaction and rebuild. On PostgreSQL one statement-level
    trigger per event inserts the statement's net change per group (a COPY of
    a million rows adds a few dozen rows); on SQLite row-level triggers add
    +1/-1 rows.

    Writers only ever INSERT here, never update a shared counter row, so
    concurrent transactions never wait for or deadlock on each other: with
    one UPDATE-d row per group, two transactions moving leads between the
    same two statuses in opposite directions would lock the two counter rows
    in opposite orders. Readers sum the table (``objects.totals()``), and
    ``objects.compact()`` folds it back to one row per group now and then.
    """

    # No database constraint or index: triggers write this table, and a
    # creator who still owns leads cannot be deleted (Lead.creator is PROTECT).
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    status = models.CharField(max_length=20)
    leads = models.BigIntegerField()
    with_followup = models.BigIntegerField()

    objects = LeadCountDeltaManager()

    def __str__(self):
        return (
            f"{self.creator_id}/{self.status}: {self.leads:+d} "
            f"({self.with_followup:+d} with follow-up)"
        )


class DayCountKind(models.TextChoices):
    FOLLOWUP = "followup", "Follow-ups on the day"
    CREATED = "created", "Created on the day"


class LeadDayDelta(models.Model):
    """Append-only changes to the lead counts per business day: per
    (creator, kind, day, closed), how many leads. Kind `followup`: leads whose
    follow-up falls on `day` in TIME_ZONE (NULL: no follow-up), split by
    closed (completed or lost) or not; kind `created`: leads created on `day`
    (`closed` is always false there).

    Kept like LeadCountDelta, by triggers on leads_lead (installed by
    migration 0011, reinstalled with the current TIME_ZONE by
    ``objects.rebuild()``): the business day is computed in the trigger from
    the time zone it was installed with, so a change of DJANGO_TIME_ZONE
    needs ``compact_lead_counts --rebuild``. The dashboard reads pending,
    overdue by age, unscheduled and the day's new leads from here, so their
    cost does not grow with the lead table.
    """

    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    kind = models.CharField(max_length=10, choices=DayCountKind.choices)
    day = models.DateField(null=True)
    closed = models.BooleanField()
    leads = models.BigIntegerField()

    objects = LeadDayDeltaManager()

    class Meta:
        indexes = [
            # The team's counts for a day or a range of days (pending, overdue
            # by age, the day's new leads; IS NULL for unscheduled).
            models.Index(fields=["kind", "closed", "day"], include=["creator", "leads"],
                         name="leaddaydelta_day_idx"),
            # One creator's.
            models.Index(fields=["creator", "kind", "closed", "day"], include=["leads"],
                         name="leaddaydelta_creator_day_idx"),
        ]

    def __str__(self):
        return f"{self.creator_id}/{self.kind}/{self.day}/closed={self.closed}: {self.leads:+d}"


class WorkKind(models.TextChoices):
    MOVED = "moved", "Follow-up moved"
    CLOSED = "closed", "Lead closed"
    RESCHEDULED = "rescheduled", "Rescheduled by a manager"


# The kinds that are a user's own follow-up work: the trend's "follow-up
# updates" and the fallback for a day's initial count. A manager's bulk
# reschedule is neither.
FOLLOWUP_WORK_KINDS = (WorkKind.MOVED.value, WorkKind.CLOSED.value)


class WorkedLeadQuerySet(InvalidatingQuerySet):
    owner_field = "user"


class WorkedLead(models.Model):
    """The work log: one row per piece of follow-up work on a lead.

    `moved`: a user changed the follow-up (old -> new). `closed`: a user closed
    the lead (old and new are the follow-up it had, or old -> new when the
    same save also moved it). `rescheduled`: a manager's bulk move.
    """

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="worked")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="worked_leads",
        db_index=False,  # (user, work_date) leads with user_id
    )
    work_date = models.DateField()
    old_followup_date = models.DateTimeField(null=True, blank=True)
    new_followup_date = models.DateTimeField(null=True, blank=True)
    worked_at = models.DateTimeField(default=timezone.now)
    # A database default too: bulk loaders that predate kinds insert moves.
    kind = models.CharField(
        max_length=20, choices=WorkKind.choices, default=WorkKind.MOVED,
        db_default=WorkKind.MOVED,
    )

    objects = WorkedLeadQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=WorkKind.values), name="worked_kind_valid"
            ),
        ]
        indexes = [
            # One user's work per day (the user's trend); kind last, so
            # counting only some kinds stays an index-only count.
            models.Index(fields=["user", "work_date", "kind"], name="worked_user_date_kind_idx"),
            # The whole team's work per day (the team trend, a day's initial).
            models.Index(fields=["work_date", "kind"], name="worked_date_kind_idx"),
        ]

    def __str__(self):
        return f"{self.lead_id} worked by {self.user_id} on {self.work_date}"


class FollowupSnapshotQuerySet(InvalidatingQuerySet):
    owner_field = "user"


class FollowupSnapshot(models.Model):
    """How many follow-ups a user had at the start of a business day."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="followup_snapshots",
        db_index=False,  # the (user, date) unique constraint leads with user_id
    )
    date = models.DateField()
    initial_count = models.PositiveIntegerField()

    objects = FollowupSnapshotQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "date"], name="snapshot_user_date_unique")
        ]

    def __str__(self):
        return f"{self.user_id} on {self.date}: {self.initial_count}"

    def delete(self, *args, **kwargs):
        owner = self.user_id
        result = super().delete(*args, **kwargs)
        announce_leads_changed(FollowupSnapshot, owner_ids={owner}, using=kwargs.get("using"))
        return result
