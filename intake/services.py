"""Writes of the intake app. `create_leads_from_entries` is the one place that
turns waiting queue entries into leads: imports with an owner and every
assignment rule call it."""

from datetime import timedelta
from itertools import islice

from django.db import models, transaction
from django.utils import timezone

from intake import bulk
from intake.models import EntryState, IntakeEntry
from leads import history
from leads.models import Lead, LeadStatus
from leads.ownership import owner_changes_record
from leads.signals import announce_leads_changed

# The follow-up a new lead gets when its entry brings none: soon enough to
# land in the owner's due list today.
DEFAULT_FOLLOWUP_DELAY = timedelta(hours=1)
# Leads written per INSERT (and entries linked per UPDATE).
LEAD_BATCH_SIZE = 2000
# How an owner was chosen (recorded with the change of owner).
ASSIGNMENT_RULES = ("manual", "round-robin", "least-loaded", "hand-over", "import")


def chunks(iterable, size):
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _owner_id(owner):
    return owner if isinstance(owner, int) else owner.pk


def create_leads_from_entries(entries, owners_by_entry, *, by_user=None, rule,
                              followup_date=None, batch_size=LEAD_BATCH_SIZE, announce=True):
    """Turn waiting `entries` into leads, each owned by `owners_by_entry[entry.pk]`
    (a user or a user id); return the new leads (with pks and `creator_id`).

    Entries missing from `owners_by_entry`, or no longer waiting when this
    runs (another manager assigned or rejected them first), are left as they
    are: their rows are locked and re-checked, so none becomes two leads.
    Each lead is created now (`created_at`: the day it reached a telecaller)
    with the entry's follow-up, or `followup_date`, or now + 1 hour; its entry
    becomes `assigned`, pointing at it, decided by `by_user` (None: the
    command line). `rule` says how the owners were chosen (ASSIGNMENT_RULES).

    One transaction; a few statements per `batch_size` entries, never one per
    entry; one `leads_changed` announcement for all the owners touched, after
    the commit (`announce=False`: the caller announces for the owners of the
    returned leads, e.g. once for a whole import). Owners are not checked
    here: callers choose them from leads.people.lead_owners().
    """
    if rule not in ASSIGNMENT_RULES:
        raise ValueError(f"Unknown assignment rule {rule!r}; expected one of {ASSIGNMENT_RULES}.")
    now = timezone.now()
    default_followup = followup_date or now + DEFAULT_FOLLOWUP_DELAY
    created = []
    owners = set()
    # The change history records the leads as made by `by_user` (through the
    # import when it is one), like any other write path (docs/history.md).
    via = history.VIA_IMPORT if rule == "import" else None
    with transaction.atomic(), history.acting_as(by_user, via=via):
        for chunk in chunks(entries, batch_size):
            chunk = [entry for entry in chunk if entry.pk in owners_by_entry]
            still_waiting = set(
                IntakeEntry.objects.select_for_update()
                .filter(pk__in=[entry.pk for entry in chunk], state=EntryState.WAITING)
                .values_list("pk", flat=True)
            )
            chunk = [entry for entry in chunk if entry.pk in still_waiting]
            if not chunk:
                continue
            leads = [
                Lead(
                    creator_id=_owner_id(owners_by_entry[entry.pk]),
                    customer_name=entry.customer_name,
                    mobile=entry.mobile,
                    car_registration=entry.car_registration,
                    car_model=entry.car_model,
                    service_type=entry.service_type,
                    source=entry.source,
                    remarks=entry.remarks,
                    followup_date=entry.followup_date or default_followup,
                    status=LeadStatus.NEEDS_FOLLOWUP,
                    created_at=now,
                    new_for_owner=True,
                )
                for entry in chunk
            ]
            for lead in leads:
                lead.stamp_history()
            insert_quietly(Lead, leads)
            _link_entries(chunk, leads, now=now, by_user=by_user)
            owner_changes_record([(lead.pk, None, lead.creator_id) for lead in leads],
                                 rule=rule, changed_by=by_user, at=now)
            owners.update(lead.creator_id for lead in leads)
            created.extend(leads)
        if owners and announce:
            announce_leads_changed(Lead, owner_ids=owners)
    return created


def insert_quietly(model, objs):
    """INSERT `objs` without announcing (the caller announces once for all):
    by COPY on PostgreSQL, else a plain QuerySet's bulk_create (Lead.objects
    would announce once per INSERT)."""
    if bulk.is_postgresql():
        try:
            bulk.copy_insert(model, objs)
            return
        except bulk.NotCopyable:
            pass
    models.QuerySet(model).bulk_create(objs)


def _link_entries(entries, leads, *, now, by_user):
    """Mark `entries` assigned to `leads` (pairwise), in one statement."""
    by_user_id = by_user.pk if by_user is not None else None
    if bulk.is_postgresql():
        table = IntakeEntry._meta.db_table
        with bulk.server_cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS entry SET state = %s, lead_id = link.lead_id, "
                "decided_at = %s, decided_by_id = %s "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS link(entry_id, lead_id) "
                "WHERE entry.id = link.entry_id",
                [EntryState.ASSIGNED.value, now, by_user_id,
                 [entry.pk for entry in entries], [lead.pk for lead in leads]],
            )
        for entry, lead in zip(entries, leads, strict=True):
            entry.state, entry.lead_id = EntryState.ASSIGNED, lead.pk
            entry.decided_at, entry.decided_by_id = now, by_user_id
        return
    for entry, lead in zip(entries, leads, strict=True):
        entry.state, entry.lead_id = EntryState.ASSIGNED, lead.pk
        entry.decided_at, entry.decided_by_id = now, by_user_id
    IntakeEntry.objects.bulk_update(entries, ["state", "lead", "decided_at", "decided_by"])
