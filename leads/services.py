"""Deliberate changes to lead data. Views, forms, admin and commands call these."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from leads import history
from leads.models import (
    CLOSED_STATUSES,
    FollowupSnapshot,
    Lead,
    LeadStatus,
    OwnerChangeRule,
    WorkedLead,
    WorkKind,
    validate_lead_owner,
    validate_remark,
)
from leads.ownership import leads_give, owner_changes_record
from leads.signals import batched_announcements


class LeadChangedError(Exception):
    """The lead changed since the caller read it; nothing was written.

    `lead` holds the current row, so the caller can show the newer values.
    """

    def __init__(self, lead):
        super().__init__(f"Lead {lead.pk} was changed by someone else.")
        self.lead = lead


def leads_set_status(*, leads, status, user=None):
    """Set `status` on every lead in the queryset `leads`; return how many changed.

    With `user` (the person doing it), each lead this closes (from a status
    that is not closed to completed or lost) gets a `closed` work-log row by
    that user, as closing one lead does. Without a user (scripts, data fixes)
    nothing is logged.
    """
    if status not in LeadStatus.values:
        raise ValueError(f"Unknown lead status {status!r}.")
    now = timezone.now()
    with transaction.atomic(), history.acting_as(user):
        closing = []
        if user is not None and status in CLOSED_STATUSES:
            closing = list(
                leads.not_closed().order_by().select_for_update()
                .values_list("pk", "followup_date")
            )
        changed = leads.update(status=status, modified_at=now)
        if closing:
            WorkedLead.objects.bulk_create(
                [
                    WorkedLead(lead_id=pk, user=user, kind=WorkKind.CLOSED,
                               work_date=timezone.localdate(now), old_followup_date=followup,
                               new_followup_date=followup, worked_at=now)
                    for pk, followup in closing
                ],
                batch_size=1000,
            )
        return changed


def leads_reassign(*, leads, creator, changed_by=None):
    """Make `creator` the owner of every lead in `leads`; return how many
    changed owner (leads already theirs are left alone). Each change is
    recorded as an OwnerChange of rule `manual` by `changed_by` (None: the
    command line), and the leads become new for `creator` unless
    `changed_by` is `creator`."""
    if not creator.is_active:
        raise ValueError(f"User {creator.username!r} is inactive and cannot own leads.")
    with transaction.atomic():
        lead_ids = list(leads.exclude(creator=creator).order_by().values_list("pk", flat=True))
        return leads_give(dict.fromkeys(lead_ids, creator.pk), rule=OwnerChangeRule.MANUAL,
                          changed_by=changed_by)


def lead_create(*, creator, customer_name, mobile, car_registration="", status=None,
                followup_date=None, remarks="", added_by=None):
    """Add a lead owned by `creator`. With `added_by` someone else (a manager
    adding a lead for a telecaller), the lead is new for its owner and the
    owner change (none -> creator, rule `manual`) is recorded."""
    # Setting the first follow-up is not "working" a lead: no WorkedLead here.
    for_someone_else = added_by is not None and added_by.pk != creator.pk
    if for_someone_else:
        validate_lead_owner(creator)
    lead = Lead(
        new_for_owner=for_someone_else,
        creator=creator,
        customer_name=customer_name,
        mobile=mobile,
        car_registration=car_registration,
        status=status or LeadStatus.NEEDS_FOLLOWUP,
        followup_date=followup_date,
        remarks=remarks,
    )
    lead.full_clean()
    with transaction.atomic():
        lead.save()
        if for_someone_else:
            owner_changes_record([(lead.pk, None, creator.pk)], rule=OwnerChangeRule.MANUAL,
                                 changed_by=added_by, at=lead.created_at)
    return lead


def lead_update(*, lead, user, changes, expected_modified_at=None, remark="", also=None):
    """Apply `changes` (field name -> value) to `lead` on behalf of `user`,
    and append `remark`, when not blank, as a new remarks line (see
    lead_quick_update): the product's pages only ever add to the remarks.

    Optimistic concurrency: with `expected_modified_at` (the `modified_at` the
    user's form was opened with) the write happens only if the row still has
    it, otherwise LeadChangedError carries the current row and nothing is
    written. The write itself is a conditional UPDATE (id and modified_at), so
    it is race-free even where SELECT ... FOR UPDATE is a no-op (SQLite).

    The work log, in the same transaction (work date = today in TIME_ZONE;
    its save invalidates the worker's dashboard, the lead's the owner's): a
    save that closes the lead (a status that is not closed to completed or
    lost) records one `closed` WorkedLead, old -> new follow-up (the same
    value unless this save also moves it; null when it has none); any other
    change of the follow-up records a `moved` one. Other status or remark
    changes record nothing. Fields whose value does not change are not
    written; when nothing changes, nothing is written. Raises ValidationError
    for invalid values of the changed fields. Returns the lead as now stored.
    `also` as for lead_quick_update.
    """
    validate_remark(remark.strip())
    with transaction.atomic(), history.acting_as(user), batched_announcements():
        current = Lead.objects.select_for_update().get(pk=lead.pk)
        token = current.modified_at if expected_modified_at is None else expected_modified_at
        if remark.strip():
            changes = {**changes, "remarks": _remarks_with(
                current.remarks, remark, user=user, at=timezone.now())}
        updated = _update_locked(current, user=user, changes=changes, token=token)
        if also is not None:
            also(updated)
        return updated


def _update_locked(current, *, user, changes, token):
    """lead_update's work on `current`, a row this transaction holds locked."""
    if current.modified_at != token:
        raise LeadChangedError(current)
    names = set(changes)
    before = {name: getattr(current, name) for name in names}
    for name, value in changes.items():
        setattr(current, name, value)
    # Validate (and normalise) only what changes: a legacy row with an odd
    # value elsewhere must not block a status update. The status CHECK
    # constraint is the field's choices, validated with the field: checking
    # it again would cost a statement.
    current.full_clean(
        exclude=[f.name for f in Lead._meta.concrete_fields if f.name not in names],
        validate_constraints=False,
    )
    changed = {name: getattr(current, name) for name in names
               if getattr(current, name) != before[name]}
    if not changed:
        return current
    if "creator" in changed:
        validate_lead_owner(current.creator)
    # "New for you" until the owner's own first update; a lead someone else
    # gives them is new again.
    new_for_owner = (user is None or user.pk != current.creator_id) and (
        "creator" in changed or current.new_for_owner)
    now = timezone.now()
    # The row is locked: its owners, before and after, are known.
    written = Lead.objects.filter(pk=current.pk, modified_at=token).update_owned_by(
        {before.get("creator", current.creator).pk, current.creator.pk}
        if "creator" in changed else {current.creator_id},
        **changed, new_for_owner=new_for_owner, modified_at=now,
    )
    if written != 1:
        raise LeadChangedError(Lead.objects.get(pk=current.pk))
    current.modified_at = now
    current.new_for_owner = new_for_owner
    if "creator" in changed:
        owner_changes_record([(current.pk, before["creator"].pk, current.creator_id)],
                             rule=OwnerChangeRule.MANUAL, changed_by=user, at=now)
    closes = ("status" in changed and before["status"] not in CLOSED_STATUSES
              and current.status in CLOSED_STATUSES)
    if closes or "followup_date" in changed:
        # One row per save: closing and moving in one go is one piece of work.
        WorkedLead.objects.create(
            lead=current,
            user=user,
            kind=WorkKind.CLOSED if closes else WorkKind.MOVED,
            work_date=timezone.localdate(now),
            old_followup_date=before.get("followup_date", current.followup_date),
            new_followup_date=current.followup_date,
            worked_at=now,
        )
    return current


def _remarks_with(remarks, remark, *, user, at):
    line = f"{timezone.localtime(at):%d %b %Y %H:%M} {user.get_username()}: {remark.strip()}"
    return f"{remarks.rstrip()}\n{line}" if remarks.strip() else line


def lead_quick_update(*, lead, user, status, followup_date, remark="", also=None,
                      locked=False):
    """The after-call update from the dashboard's due list.

    Sets status and follow-up (None clears it) and appends `remark`, when not
    blank, as a new line "28 Nov 2026 10:30 username: text" below the existing
    remarks, so the call history is kept. The remarks are read under the row
    lock and the write is conditional (see lead_update): a concurrent change
    raises LeadChangedError instead of losing a remark. A remark over
    REMARK_MAX_CHARS, or one that would take the remarks over
    REMARKS_MAX_CHARS, raises ValidationError and nothing is written.

    `locked`: `lead` is the row as the caller's own transaction read it with
    SELECT ... FOR UPDATE (the quick-update view reads it so, once): it is
    not read again, and the work joins the caller's transaction.

    `also`, when given, is called with the lead as now stored inside the same
    transaction, after the update (a write that must commit or roll back with
    it, e.g. the call this update follows); it may raise to roll both back.
    """
    validate_remark(remark.strip())
    # A caller's lock means a caller's transaction: no savepoint inside it.
    with (
        transaction.atomic(savepoint=not locked),
        history.acting_as(user),
        batched_announcements(),
    ):
        current = lead if locked else Lead.objects.select_for_update().get(pk=lead.pk)
        changes = {"status": status, "followup_date": followup_date}
        if remark.strip():
            changes["remarks"] = _remarks_with(
                current.remarks, remark, user=user, at=timezone.now()
            )
        updated = _update_locked(current, user=user, changes=changes, token=current.modified_at)
        if also is not None:
            also(updated)
        return updated


def followup_snapshots_take(*, day):
    """Record, for every active user who has leads, how many of them have a
    follow-up within the business day `day` and are not closed (0 when none
    is due): the day's `pending` as it stands when this runs.

    Two queries whatever the number of users: one SELECT of active users with
    leads and their due count (a correlated grouped count, each served by the
    not-closed (creator, followup_date) index), and one bulk upsert on (user, date).
    Idempotent: a second run rewrites the same rows. Users without any lead
    get no row. Returns the snapshots written.
    """
    due = (
        Lead.objects.filter(creator=OuterRef("pk"))
        .due_on(day)
        .order_by()
        .values("creator")
        .annotate(count=Count("pk"))
        .values("count")
    )
    counts = (
        get_user_model().objects.filter(is_active=True)
        .filter(Exists(Lead.objects.filter(creator=OuterRef("pk"))))
        .annotate(due=Coalesce(Subquery(due, output_field=IntegerField()), Value(0)))
        .order_by("pk")
        .values_list("pk", "due")
    )
    snapshots = [
        FollowupSnapshot(user_id=user_id, date=day, initial_count=count)
        for user_id, count in counts
    ]
    if snapshots:
        FollowupSnapshot.objects.bulk_create(
            snapshots,
            update_conflicts=True,
            unique_fields=["user", "date"],
            update_fields=["initial_count"],
        )
    return snapshots
