"""Changes of a lead's owner, and their history (OwnerChange).

Every path that gives leads to someone writes its OwnerChange rows through
`owner_changes_record` (one INSERT per batch) in the same transaction, and
marks the leads new for their owner unless the owner did it themself.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connections, router, transaction
from django.utils import timezone

from leads.distribution import DistributionError, plan_owners
from leads.models import Lead, OwnerChange, OwnerChangeRule
from leads.signals import announce_leads_changed


def owner_changes_record(changes, *, rule, changed_by=None, at=None):
    """Write one OwnerChange per (lead id, from user id or None, to user id)
    in `changes`, skipping those whose owner did not change; return how many.

    One INSERT for all of them (SQLite: as many as its parameter limit
    needs); call it inside the transaction of the change itself."""
    at = at or timezone.now()
    by_id = getattr(changed_by, "pk", changed_by)
    changes = [change for change in changes if change[1] != change[2]]
    if not changes:
        return 0
    connection = connections[router.db_for_write(OwnerChange)]
    if connection.vendor == "postgresql":
        # Three arrays instead of a value per cell: building the ORM's
        # INSERT for a big batch costs far more than the database's work.
        lead_ids, from_ids, to_ids = (list(column) for column in zip(*changes, strict=True))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {OwnerChange._meta.db_table} "
                "(lead_id, from_user_id, to_user_id, changed_by_id, changed_at, rule) "
                "SELECT change.lead_id, change.from_id, change.to_id, %s, %s, %s "
                "FROM unnest(%s::bigint[], %s::integer[], %s::integer[]) "
                "AS change(lead_id, from_id, to_id)",
                [by_id, at, rule, lead_ids, from_ids, to_ids],
            )
        return len(changes)
    OwnerChange.objects.bulk_create([
        OwnerChange(lead_id=lead_id, from_user_id=from_id, to_user_id=to_id,
                    changed_by_id=by_id, changed_at=at, rule=rule)
        for lead_id, from_id, to_id in changes
    ])
    return len(changes)


def leads_give(assignments, *, rule, changed_by=None, at=None):
    """Give leads to new owners: `assignments` maps lead id -> new owner id.

    Locks the leads, then one UPDATE per new owner (owners, not rows: a
    bounded number), the history in bulk, and one announcement for every
    owner touched. Leads already with that owner are left alone. The leads
    become new for their owner unless `changed_by` is that owner. Returns
    how many leads changed owner. Call it with owners already checked
    (leads.distribution): it does not check who may own leads."""
    at = at or timezone.now()
    by_id = getattr(changed_by, "pk", changed_by)
    with transaction.atomic():
        current = dict(
            Lead.objects.filter(pk__in=list(assignments)).select_for_update()
            .order_by("pk").values_list("pk", "creator_id")
        )
        per_owner = defaultdict(list)
        for lead_id, owner_id in assignments.items():
            if lead_id in current and current[lead_id] != owner_id:
                per_owner[owner_id].append(lead_id)
        # The base manager: its update announces nothing, so this batch
        # announces once below rather than once per owner.
        for owner_id, lead_ids in per_owner.items():
            Lead._base_manager.filter(pk__in=lead_ids).update(
                creator_id=owner_id, new_for_owner=owner_id != by_id, modified_at=at,
            )
        changed = owner_changes_record(
            [(lead_id, current[lead_id], owner_id)
             for owner_id, lead_ids in per_owner.items() for lead_id in lead_ids],
            rule=rule, changed_by=by_id, at=at,
        )
        if changed:
            touched = set(per_owner) | {current[pk] for ids in per_owner.values() for pk in ids}
            announce_leads_changed(Lead, owner_ids=touched)
        return changed


@dataclass
class HandOverResult:
    handed_over: int
    #: {username: leads received}, by username.
    received: dict = field(default_factory=dict)
    skipped_users: list = field(default_factory=list)


def leads_hand_over(*, from_user, to_users, rule, changed_by=None):
    """Hand every lead of `from_user` that is not closed to `to_users`: one
    colleague (rule "manual"), or spread by round-robin or least-loaded.
    `from_user` never receives any. OwnerChange rows have the rule
    `hand-over`. Raises DistributionError (nothing written) when nobody
    chosen can own leads."""
    to_users = [user for user in to_users if user.pk != from_user.pk]
    if not to_users:
        raise DistributionError("Choose who receives the leads (someone other than "
                                f"{from_user.get_username()}).")
    with transaction.atomic():
        lead_ids = list(
            Lead.objects.owned_by(from_user).not_closed().select_for_update()
            .order_by("followup_date", "pk").values_list("pk", flat=True)
        )
        plan = plan_owners(len(lead_ids), rule=rule, users=to_users)
        assignments = dict(zip(lead_ids, plan.owner_ids, strict=False))
        handed = leads_give(assignments, rule=OwnerChangeRule.HAND_OVER, changed_by=changed_by)
    names = {user.pk: user.get_username() for user in to_users}
    received = defaultdict(int)
    for owner_id in assignments.values():
        received[names[owner_id]] += 1
    return HandOverResult(handed_over=handed, received=dict(sorted(received.items())),
                          skipped_users=plan.skipped_users)
