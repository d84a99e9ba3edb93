"""Assigning waiting queue entries to the people who can own leads: one user,
round-robin or least-loaded, with an optional daily cap per user.

The import (`--assign round-robin|least-loaded|user:NAME`) and the queue page
call `assign_entries`. The rules themselves live in leads.distribution (the
hand-over uses them too); the leads are created by
intake.services.create_leads_from_entries, which also writes the owner-change
history and announces once.
"""

from dataclasses import dataclass, field

from django.utils import timezone

from intake.models import EntryState
from intake.services import LEAD_BATCH_SIZE, create_leads_from_entries
from leads.distribution import DistributionError, normalize_rule, plan_owners

__all__ = ["AssignmentResult", "DistributionError", "assign_entries", "entries_reject"]


@dataclass
class AssignmentResult:
    #: The leads created, in the order of the entries.
    leads: list
    #: Entries left waiting because every receiver reached the daily cap.
    left_waiting: int = 0
    #: Entries that were no longer waiting when the assignment ran (another
    #: manager assigned or rejected them first).
    already_decided: int = 0
    #: Chosen usernames that cannot own leads (inactive, not telecallers).
    skipped_users: list = field(default_factory=list)
    #: {user id: leads received}.
    per_user: dict = field(default_factory=dict)

    @property
    def assigned(self):
        return len(self.leads)


def assign_entries(entries, rule, users=None, by_user=None, daily_cap=None, *,
                   followup_date=None, batch_size=LEAD_BATCH_SIZE):
    """Give waiting `entries` (IntakeEntry objects or a queryset, oldest first
    is fairest) owners by `rule`, and turn them into leads.

    `rule`: "manual" (one user: `users` holds one), "round-robin" or
    "least-loaded" (underscores accepted); `users`: the users chosen, None
    for everyone who can own leads; only active Telecallers ever receive,
    others are reported in `skipped_users`. `by_user`: who assigns (None: the
    command line). `daily_cap`: at most this many leads per user today,
    counting what they received today; the rest stay waiting
    (`left_waiting`). Entries that are not waiting are left alone.

    Statements: a constant few for the plan (leads.distribution), then a
    few per `batch_size` entries (create_leads_from_entries). Raises
    DistributionError, with nothing written, when nobody chosen can own leads
    or the rule or cap is invalid.
    """
    rule = normalize_rule(rule)
    entries = [entry for entry in entries if entry.state == EntryState.WAITING]
    plan = plan_owners(len(entries), rule=rule, users=users, daily_cap=daily_cap)
    owners = dict(zip((entry.pk for entry in entries), plan.owner_ids, strict=False))
    chosen = [entry for entry in entries if entry.pk in owners]
    leads = create_leads_from_entries(chosen, owners, by_user=by_user, rule=rule,
                                      followup_date=followup_date, batch_size=batch_size)
    per_user = {}
    for lead in leads:
        per_user[lead.creator_id] = per_user.get(lead.creator_id, 0) + 1
    return AssignmentResult(
        leads=leads, left_waiting=plan.left_over, already_decided=len(chosen) - len(leads),
        skipped_users=plan.skipped_users, per_user=per_user,
    )


def entries_reject(entries, *, reason, by_user=None):
    """Reject the waiting ones among `entries` (a queryset) with `reason`
    (e.g. a duplicate); return how many. One UPDATE; entries decided
    meanwhile are left alone. No lead changes, so nothing is announced."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("Give the reason for rejecting.")
    return entries.filter(state=EntryState.WAITING).update(
        state=EntryState.REJECTED, rejected_reason=reason, decided_at=timezone.now(),
        decided_by=by_user,
    )
