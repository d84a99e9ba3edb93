"""Who receives the next leads: the distribution rules shared by the intake
queue, the import and the hand-over.

A plan is computed before anything is written, with a constant number of
statements whatever the number of leads: the eligible people (one), the
round-robin's last receiver or the people's loads (one), today's
assignments for a daily cap (one). Only the people who can own leads
(leads.people.lead_owners: active members of Telecallers) ever receive one;
anyone else chosen is reported as skipped, never given a lead.
"""

import heapq
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from leads.models import Lead, OwnerChange, OwnerChangeRule, day_bounds
from leads.people import lead_owners

ONE_USER = OwnerChangeRule.MANUAL.value
ROUND_ROBIN = OwnerChangeRule.ROUND_ROBIN.value
LEAST_LOADED = OwnerChangeRule.LEAST_LOADED.value
RULES = (ONE_USER, ROUND_ROBIN, LEAST_LOADED)
# Least-loaded counts the open leads due up to the end of this many days from
# today (overdue and unscheduled ones included).
LOAD_HORIZON_DAYS = 7


class DistributionError(ValueError):
    """The plan cannot be made (no one eligible, unknown rule); nothing was written."""


@dataclass
class DistributionPlan:
    #: One owner id per lead, in the order of the leads given (may be
    #: shorter than asked when the daily cap stops it).
    owner_ids: list
    #: How many leads got no owner because every receiver reached the cap.
    left_over: int = 0
    #: Usernames chosen but not eligible (inactive, or not a telecaller).
    skipped_users: list = field(default_factory=list)


def normalize_rule(rule):
    """The stored spelling of a rule (as the issue writes them): 'round-robin'
    and 'round_robin' alike."""
    value = (rule or "").strip().lower().replace("_", "-")
    if value in ("user", "one-user"):
        value = ONE_USER
    if value not in RULES:
        raise DistributionError(
            f"Unknown distribution rule {rule!r}: use one user, round-robin or least-loaded."
        )
    return value


def eligible_receivers(users):
    """(eligible users ordered by username then id, usernames skipped).

    `users` is a list or queryset of users, or None for everyone who can own
    leads."""
    owners = lead_owners().order_by("username", "pk")
    if users is None:
        return list(owners), []
    chosen = {user.pk: user for user in users}
    eligible = list(owners.filter(pk__in=list(chosen)))
    eligible_ids = {user.pk for user in eligible}
    skipped = sorted(user.get_username() for pk, user in chosen.items() if pk not in eligible_ids)
    return eligible, skipped


def load_horizon(now=None):
    """The end of the seventh day from today, in the business time zone."""
    today = timezone.localdate(now)
    return day_bounds(today + timedelta(days=LOAD_HORIZON_DAYS))[1]


def open_loads(user_ids, *, now=None):
    """{user id: open leads that are unscheduled or due before load_horizon()}
    (0 for users with none): one grouped count over the not-closed index."""
    rows = (
        Lead.objects.filter(creator_id__in=list(user_ids)).not_closed()
        .filter(Q(followup_date=None) | Q(followup_date__lt=load_horizon(now)))
        .order_by().values("creator_id").annotate(n=Count("pk"))
        .values_list("creator_id", "n")
    )
    return {user_id: 0 for user_id in user_ids} | dict(rows)


def assigned_today(user_ids, *, now=None):
    """{user id: leads they received today (any rule)}: the daily cap's count."""
    start, end = day_bounds(timezone.localdate(now))
    rows = (
        OwnerChange.objects.filter(to_user_id__in=list(user_ids),
                                   changed_at__gte=start, changed_at__lt=end)
        .order_by().values("to_user_id").annotate(n=Count("pk"))
        .values_list("to_user_id", "n")
    )
    return {user_id: 0 for user_id in user_ids} | dict(rows)


def _round_robin_start(receivers):
    """Index in `receivers` to start at: just after the last one to receive a
    lead by round-robin, so successive batches keep turns fair."""
    last = (
        OwnerChange.objects.filter(rule=ROUND_ROBIN, to_user__in=[u.pk for u in receivers])
        .order_by("-changed_at", "-pk").values_list("to_user_id", flat=True).first()
    )
    ids = [user.pk for user in receivers]
    return ids.index(last) + 1 if last in ids else 0


def plan_owners(count, *, rule, users=None, daily_cap=None, now=None):
    """A DistributionPlan giving `count` leads owners by `rule`.

    ONE_USER: `users` holds exactly one user. ROUND_ROBIN: turns over the
    eligible users by username, continuing after the last round-robin
    receiver. LEAST_LOADED: each lead to whoever has the fewest open leads
    (open_loads) at that moment, ties by username then id. `daily_cap`: no
    one gets more leads than that today, counting what they already received
    today; the rest are `left_over`.
    """
    rule = normalize_rule(rule)
    if daily_cap is not None and daily_cap < 1:
        raise DistributionError("The daily cap must be a whole number of at least 1.")
    users = None if users is None else list(users)
    if rule == ONE_USER and (users is None or len(users) != 1):
        raise DistributionError("Choose exactly one user to give the leads to.")
    receivers, skipped = eligible_receivers(users)
    if not receivers:
        named = f" ({', '.join(skipped)} cannot own leads)" if skipped else ""
        raise DistributionError(
            "Nobody chosen can own leads: choose active members of the Telecallers group"
            f"{named}."
        )
    ids = [user.pk for user in receivers]
    room = (dict.fromkeys(ids, count) if daily_cap is None else
            {pk: max(0, daily_cap - got) for pk, got in assigned_today(ids, now=now).items()})
    owners = []
    if rule == LEAST_LOADED:
        loads = open_loads(ids, now=now)
        heap = [(loads[u.pk], u.get_username(), u.pk) for u in receivers if room[u.pk]]
        heapq.heapify(heap)
        while heap and len(owners) < count:
            load, name, pk = heapq.heappop(heap)
            owners.append(pk)
            room[pk] -= 1
            if room[pk]:
                heapq.heappush(heap, (load + 1, name, pk))
    else:
        start = _round_robin_start(receivers) if rule == ROUND_ROBIN else 0
        turn = ids[start:] + ids[:start]
        while len(owners) < count:
            turn = [pk for pk in turn if room[pk]]
            if not turn:
                break
            for pk in turn[:count - len(owners)]:
                owners.append(pk)
                room[pk] -= 1
    return DistributionPlan(owner_ids=owners, left_over=count - len(owners),
                            skipped_users=skipped)
