"""The dashboard's read side: every query the dashboard runs, returning plain data.

Scope: `user_id=None` is the whole team (all leads); an id is the leads whose
creator is that user. Day D is [D 00:00, D+1 00:00) in TIME_ZONE (`day_bounds`).

The data comes in four families, each a function of its keyword arguments
alone so that it can be cached on them: `dashboard_day_metrics`,
`dashboard_team_performance`, `dashboard_due_page` and `dashboard_trend`
(the charts). Their results are
JSON-ready: no model instances, datetimes as ISO 8601 strings with the
TIME_ZONE offset.

Percentages are computed in Decimal, rounded half-up to one decimal (0.0 when
the denominator is 0), and emitted as JSON numbers (Python floats): a value
with one decimal place round-trips exactly through float's shortest repr
(33.3 stays 33.3), and clients get a number they can compare and sort.

Closed leads (completed, lost) need no follow-up: pending, overdue,
unscheduled and the due list count only leads that are not closed, "as the
data stands now" (for a past day that is not a reconstruction of that day).

Queries (cold, all three families inside `shared_queries()`): the all-time
counts by (creator, status) from the counters the database maintains
(LeadCountDelta: no scan of the lead table), one day-bounded statement of
range counts per creator (new, pending, overdue by age, unscheduled, and the
leads worked away from the day), one users + snapshots query, and one page of
due leads; the trend adds one statement of its own. The count is independent
of the number of users and leads.
"""

import functools
import heapq
import itertools
import math
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.core.paginator import InvalidPage
from django.db import connection, connections, router
from django.db.models import Count, F, OuterRef, Q, Subquery, Value, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from crm.db_routers import reading_from_replica
from dashboard import cache
from leads.models import (
    FOLLOWUP_WORK_KINDS,
    FollowupSnapshot,
    Lead,
    LeadCountDelta,
    LeadStatus,
    WorkedLead,
    day_bounds,
)
from leads.people import lead_owners

DUE_PAGE_SIZE = 50
TREND_DAYS = 14
# Overdue follow-ups by age: whole calendar days from the follow-up's local
# date to the day shown, as (JSON key, youngest age, oldest age or None).
OVERDUE_AGES = (("1", 1, 1), ("2-7", 2, 7), ("8-30", 8, 30), ("31+", 31, None))


class DuePageOutOfRange(InvalidPage):
    """The requested page of the due list does not exist."""

    def __init__(self, *, page, pages):
        self.page = page
        self.pages = pages
        super().__init__(
            f"Page {page} does not exist: the due list has {pages} page{'s' if pages != 1 else ''}."
        )


# --- Sharing the lead aggregates within one request -------------------------

_shared_results = ContextVar("dashboard_shared_results", default=None)


@contextmanager
def shared_queries():
    """Within the block, each lead aggregate runs at most once.

    The three families read the same two aggregates (the all-time counts by
    creator and status, the day-bounded counts by creator). Called one after
    the other for one request they would run them twice. Outside the block every
    call computes afresh, so results never outlive the request. Each public
    selector also opens a block for itself (joining an enclosing one).
    """
    if _shared_results.get() is not None:  # already inside a block: join it
        yield
        return
    token = _shared_results.set({})
    try:
        yield
    finally:
        _shared_results.reset(token)


def _shared(key, compute):
    results = _shared_results.get()
    if results is None:
        return compute()
    # A result read from a replica is never reused for a value computed on
    # the primary (which the cache may store): see dashboard/cache.py.
    key = (reading_from_replica(), key)
    if key not in results:
        results[key] = compute()
    return results[key]


# --- Helpers ------------------------------------------------------------------


def _percentage(numerator, denominator):
    if not denominator:
        return 0.0
    value = (Decimal(100) * numerator / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    return float(value)


def _leads_in_scope(user_id):
    leads = Lead.objects.all()
    return leads if user_id is None else leads.filter(creator_id=user_id)


def _status_rows(*, user_id):
    """[{"creator_id", "status", "leads", "with_followup"}] over all time, for the scope.

    Read from the counters the database keeps (LeadCountDelta, maintained by
    triggers on leads_lead), not by scanning the lead table: totals, status
    counts and each user's all-time confirmed/completed numbers are all sums
    over these rows.
    """

    def compute():
        return LeadCountDelta.objects.totals(creator_id=user_id)

    return _shared(("status_rows", user_id), compute)


def _empty_day_row():
    """A creator's `_day_rows` entry when nothing counts for them."""
    return {"new_leads": 0, "pending": 0, "unscheduled": 0, "left_day": 0,
            "overdue": dict.fromkeys((key for key, _, _ in OVERDUE_AGES), 0)}


def _overdue_ranges(day):
    """[(JSON key, start or None, end)]: the follow-up moments of each overdue
    age, between local midnights (computed here, so the database compares
    plain timestamps and converts no row to a date)."""
    ranges = []
    for key, youngest, oldest in OVERDUE_AGES:
        end = day_bounds(day - timedelta(days=youngest - 1))[0]
        start = None if oldest is None else day_bounds(day - timedelta(days=oldest))[0]
        ranges.append((key, start, end))
    return ranges


def _day_rows(*, day, user_id):
    """{creator_id: _empty_day_row() filled in} for creators with anything to count on `day`.

    Per creator: `new_leads` (created within the day); over their leads that
    are not closed, `pending` (follow-up within the day), `overdue` by age
    (follow-up before the day's start) and `unscheduled` (no follow-up);
    `left_day`: the distinct leads with a work-log row of kind moved or closed
    made during the day whose old follow-up was within the day and that are
    not pending now (what the day's initial lost to work).

    One statement of grouped counts (UNION ALL), each restricted to the
    creators the counters know: PostgreSQL answers the lead counts with
    index-only range scans per creator on the not-closed (creator_id,
    followup_date) index and on (creator_id, created_at), and the work-log
    count from the day's rows of (work_date, kind).
    """

    def compute():
        start, end = day_bounds(day)
        creators = sorted({row["creator_id"] for row in _status_rows(user_id=user_id)})
        in_scope = Lead.objects.filter(creator_id__in=creators).order_by()
        open_leads = in_scope.not_closed()

        def per_creator(leads, kind, counted=None):
            return leads.values("creator_id").annotate(kind=Value(kind),
                                                       n=counted or Count("*"))

        branches = [
            per_creator(in_scope.created_within(start, end), "new_leads"),
            per_creator(in_scope.due_on(day), "pending"),
            per_creator(open_leads.filter(followup_date=None), "unscheduled"),
        ]
        for key, since, until in _overdue_ranges(day):
            overdue = open_leads.followup_before(until)
            if since is not None:
                overdue = overdue.filter(followup_date__gte=since)
            branches.append(per_creator(overdue, f"overdue:{key}"))
        branches.append(
            per_creator(in_scope.worked_off(day), "left_day", Count("pk", distinct=True))
        )

        rows = {}
        for row in branches[0].union(*branches[1:], all=True):
            counts = rows.setdefault(row["creator_id"], _empty_day_row())
            kind = row["kind"]
            if kind.startswith("overdue:"):
                counts["overdue"][kind.removeprefix("overdue:")] = row["n"]
            else:
                counts[kind] = row["n"]
        return rows

    return _shared(("day_rows", day, user_id), compute)


def _overdue_of(day_rows):
    by_age = dict.fromkeys((key for key, _, _ in OVERDUE_AGES), 0)
    for counts in day_rows:
        for key, n in counts["overdue"].items():
            by_age[key] += n
    return {"total": sum(by_age.values()), "by_age": by_age}


def _users_with_snapshot(*, day, user_id):
    """[{"id", "username", "snapshot_initial"}]: every active user (team view) or the one
    user, with their FollowupSnapshot count for `day` (None without a snapshot)."""
    user_model = get_user_model()
    snapshot = FollowupSnapshot.objects.filter(user_id=OuterRef("pk"), date=day).values(
        "initial_count"
    )[:1]
    users = (
        user_model.objects.filter(is_active=True)
        if user_id is None
        else user_model.objects.filter(pk=user_id)
    )
    return list(
        users.annotate(snapshot_initial=Subquery(snapshot))
        .order_by()
        .values("id", "username", "snapshot_initial")
    )


# --- Public selectors ---------------------------------------------------------


# The attribute a preloaded answer sits in (set by crm.auth.ViewerBackend).
CACHE_BYPASSED_ATTRIBUTE = "dashboard_cache_bypassed"


def viewer_bypassed_scopes(user):
    """The cache scopes bypassed for this request, a frozenset (see
    dashboard.cache.bypassed_scopes): as loaded with `user` by
    crm.auth.ViewerBackend, which selects `cache_bypassed_sql()` in the
    statement that loads the user; otherwise one statement now."""
    preloaded = getattr(user, CACHE_BYPASSED_ATTRIBUTE, None)
    if preloaded is not None:
        return preloaded
    return cache.bypassed_scopes()


def cache_bypassed_sql():
    """(sql, params): `dashboard.cache.bypassed_scopes()` as one SQL expression,
    for a statement that runs anyway (the user's load): the scopes joined by
    commas, NULL for none; `cache_bypassed_from_sql` reads it. The params are
    positional (``%s``), in the order they appear in `sql`."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    return _cache_bypassed_sql(connection.vendor), [now]


def cache_bypassed_from_sql(value):
    """The frozenset of scopes a `cache_bypassed_sql()` expression answered."""
    return frozenset(value.split(",")) if value else frozenset()


@functools.cache
def _cache_bypassed_sql(vendor):
    from dashboard.models import CacheBypass

    table = connection.ops.quote_name(CacheBypass._meta.db_table)
    # Scopes are letters and digits (dashboard/cache/versions.py): a comma separates them.
    joined = "string_agg(b.scope, ',')" if vendor == "postgresql" else "group_concat(b.scope, ',')"
    return f"(SELECT {joined} FROM {table} b WHERE b.until > %s)"


def active_users():
    """[{"id", "username"}] of the people who can own leads (leads.people), by
    username: a manager's choices."""
    return list(lead_owners().values("id", "username"))


@shared_queries()
def dashboard_day_metrics(*, day, user_id):
    """{"totals": {"leads", "new_leads", "with_followup_pct"}, "status_counts": {status: n},
    "overdue": {"total", "by_age": {"1", "2-7", "8-30", "31+"}}, "unscheduled": n}.

    `status_counts` has every stored status value as a key, in LeadStatus order.
    `overdue`: leads in scope, not closed, with a follow-up before the day's
    start, by age in calendar days (TIME_ZONE) from the follow-up's date to
    the day; `unscheduled`: leads in scope, not closed, with no follow-up.
    Both as the data stands now, inactive users' leads included.
    """
    status_counts = dict.fromkeys(LeadStatus.values, 0)
    leads = with_followup = 0
    for row in _status_rows(user_id=user_id):
        status_counts[row["status"]] += row["leads"]
        leads += row["leads"]
        with_followup += row["with_followup"]
    day_rows = _day_rows(day=day, user_id=user_id).values()
    return {
        "totals": {
            "leads": leads,
            "new_leads": sum(row["new_leads"] for row in day_rows),
            "with_followup_pct": _percentage(with_followup, leads),
        },
        "status_counts": status_counts,
        "overdue": _overdue_of(day_rows),
        "unscheduled": sum(row["unscheduled"] for row in day_rows),
    }


@shared_queries()
def dashboard_team_performance(*, day, user_id):
    """{"team": [row...], "followups": {...}, "snapshot_taken": bool}.

    A team row is {"user_id", "username", "initial", "worked", "pending",
    "completion_pct", "new_leads", "confirmed", "completed", "overdue",
    "unscheduled", "from_snapshot"}. Team view: one row per active user who
    created at least one lead; a single user: that user's row alone (zeros
    when they have no leads). Rows are sorted by completion_pct descending,
    initial descending, username.

    Per user: `pending` counts their leads due within the day that are not
    closed; `initial` is their snapshot for the day when there is one, else
    `pending` + the leads worked away from the day (see `_day_rows`);
    `worked` = max(0, initial - pending); `overdue` and `unscheduled` are
    the totals of dashboard_day_metrics for their leads.

    `followups` is {"initial", "worked", "pending", "completion_pct"} for the
    scope: `initial` sums the rows, `pending` counts every due lead in scope
    (an inactive user's too). `snapshot_taken` is true when every row's
    initial came from a snapshot (so also for an empty team).
    """
    day_rows = _day_rows(day=day, user_id=user_id)
    by_status = {}
    for row in _status_rows(user_id=user_id):
        by_status[(row["creator_id"], row["status"])] = row["leads"]
    users = _users_with_snapshot(day=day, user_id=user_id)
    if user_id is None:
        creators = {creator_id for creator_id, _ in by_status}
        users = [user for user in users if user["id"] in creators]

    team = []
    for user in users:
        day_row = day_rows.get(user["id"]) or _empty_day_row()
        pending = day_row["pending"]
        from_snapshot = user["snapshot_initial"] is not None
        initial = user["snapshot_initial"] if from_snapshot else pending + day_row["left_day"]
        worked = max(0, initial - pending)
        team.append(
            {
                "user_id": user["id"],
                "username": user["username"],
                "initial": initial,
                "worked": worked,
                "pending": pending,
                "completion_pct": _percentage(worked, initial),
                "new_leads": day_row["new_leads"],
                "confirmed": by_status.get((user["id"], LeadStatus.CONFIRMED.value), 0),
                "completed": by_status.get((user["id"], LeadStatus.COMPLETED.value), 0),
                "overdue": sum(day_row["overdue"].values()),
                "unscheduled": day_row["unscheduled"],
                "from_snapshot": from_snapshot,
            }
        )
    team.sort(key=lambda row: (-row["completion_pct"], -row["initial"], row["username"]))

    initial = sum(row["initial"] for row in team)
    pending = sum(row["pending"] for row in day_rows.values())
    worked = max(0, initial - pending)
    return {
        "team": team,
        "followups": {
            "initial": initial,
            "worked": worked,
            "pending": pending,
            "completion_pct": _percentage(worked, initial),
        },
        "snapshot_taken": all(row["from_snapshot"] for row in team),
    }


@shared_queries()
def dashboard_due_page(*, day, user_id, page):
    """{"total", "page", "pages", "items": [...]}: the pending leads (in scope, due
    within `day`, not closed), by follow-up then id, DUE_PAGE_SIZE per page (page 1
    exists even when empty).

    An item is {"id", "customer_name", "mobile", "car_registration", "status",
    "followup_date" (ISO 8601, TIME_ZONE offset), "creator_id", "creator_username"}.
    Raises DuePageOutOfRange for a page past the last. The total comes from
    the day-bounded aggregate, so no separate COUNT runs.
    """
    total = sum(row["pending"] for row in _day_rows(day=day, user_id=user_id).values())
    pages = max(1, math.ceil(total / DUE_PAGE_SIZE))
    if not 1 <= page <= pages:
        raise DuePageOutOfRange(page=page, pages=pages)
    items = _shared(("due_items", day, user_id, page),
                    lambda: _due_items(day=day, user_id=user_id, page=page))
    return {"total": total, "page": page, "pages": pages, "items": items}


def _due_items(*, day, user_id, page):
    offset = (page - 1) * DUE_PAGE_SIZE
    rows = _due_item_values(_leads_in_scope(user_id).due_on(day).order_by("followup_date", "id"))
    return _due_item_rows(rows[offset : offset + DUE_PAGE_SIZE])


def _due_item_values(leads):
    return leads.values("id", "customer_name", "mobile", "car_registration", "status",
                        "followup_date", "creator_id", "creator__username")


def _due_item_rows(rows):
    """The due list's items from `_due_item_values` rows, in their order."""
    return [
        {
            "id": row["id"],
            "customer_name": row["customer_name"],
            "mobile": row["mobile"],
            "car_registration": row["car_registration"],
            "status": row["status"],
            "followup_date": timezone.localtime(row["followup_date"]).isoformat(),
            "creator_id": row["creator_id"],
            "creator_username": row["creator__username"],
        }
        for row in rows
    ]


def dashboard_trend(*, day, user_id):
    """The TREND_DAYS business days ending on `day`, oldest first, every day present:
    [{"date" (ISO), "new_leads", "updates"}].

    `new_leads`: leads in scope created within the day (TIME_ZONE).
    `updates` ("follow-up updates"): work-log rows of kind moved or closed
    with that work date, whatever day the follow-up was on (overdue work
    included): everyone's for the team view, the user's own work
    (WorkedLead.user) for one user, whoever owns the lead.

    One statement of 2 x TREND_DAYS scalar counts: each day's new leads a
    range count over the (created_at) or (creator_id, created_at) index, each
    day's work-log rows over (work_date, kind) or (user_id, work_date, kind).
    Written in SQL: grouping the team's 14 days of leads (about 37,000 index
    entries at a million leads) by their local date cost PostgreSQL about
    12 ms, the largest part of a cold manager dashboard; the range counts take
    about 4. Building the same 28 counts with the ORM cost more in Python than
    that.
    """
    days = _trend_days(day)
    new_leads = _shared(("trend_new_leads", day, user_id), lambda: None)
    counts = _trend_counts(days, user_id, new_leads=new_leads is None)
    if new_leads is not None:
        counts = [*new_leads, *counts]
    return [
        {"date": date.isoformat(), "new_leads": counts[index],
         "updates": counts[TREND_DAYS + index]}
        for index, date in enumerate(days)
    ]


def _trend_days(day):
    return [day - timedelta(days=TREND_DAYS - 1 - offset) for offset in range(TREND_DAYS)]


def _trend_counts(days, user_id, *, new_leads=True, updates=True):
    """The trend's counts in one statement: each day's new leads (when
    `new_leads`), then each day's updates (when `updates`)."""
    alias = router.db_for_read(Lead)
    ops = connections[alias].ops
    new_leads_params, worked_params = [], []
    for date in days:
        start, end = day_bounds(date)
        new_leads_params += [ops.adapt_datetimefield_value(start),
                             ops.adapt_datetimefield_value(end)]
        worked_params += [ops.adapt_datefield_value(date), *FOLLOWUP_WORK_KINDS]
        if user_id is not None:
            new_leads_params.append(user_id)
            worked_params.append(user_id)
    params = (new_leads_params if new_leads else []) + (worked_params if updates else [])
    with connections[alias].cursor() as cursor:
        cursor.execute(_trend_sql(alias, one_user=user_id is not None, new_leads=new_leads,
                                  updates=updates), params)
        return list(cursor.fetchone())


@functools.cache
def _trend_sql(alias, *, one_user, new_leads=True, updates=True):
    quote = connections[alias].ops.quote_name
    lead, worked = Lead._meta, WorkedLead._meta
    column = {
        "lead": quote(lead.db_table),
        "created_at": quote(lead.get_field("created_at").column),
        "creator": quote(lead.get_field("creator").column),
        "worked": quote(worked.db_table),
        "work_date": quote(worked.get_field("work_date").column),
        "user": quote(worked.get_field("user").column),
        "kind": quote(worked.get_field("kind").column),
    }
    new_leads_count = (
        f"(SELECT COUNT(*) FROM {column['lead']} WHERE {column['created_at']} >= %s "
        f"AND {column['created_at']} < %s"
        + (f" AND {column['creator']} = %s)" if one_user else ")")
    )
    kinds = ", ".join(["%s"] * len(FOLLOWUP_WORK_KINDS))
    worked_on = (
        f"(SELECT COUNT(*) FROM {column['worked']} WHERE {column['work_date']} = %s "
        f"AND {column['kind']} IN ({kinds})"
        + (f" AND {column['user']} = %s)" if one_user else ")")
    )
    counts = ([new_leads_count] * TREND_DAYS if new_leads else []) + (
        [worked_on] * TREND_DAYS if updates else [])
    return "SELECT " + ", ".join(counts)


# --- The team view from per-owner parts ------------------------------------------


def team_part_owners():
    """The ids whose parts make up the team view: every lead owner the
    counters know (inactive users' too: their leads count), sorted. Reads the
    counters, not the lead table (and joins the request's shared results)."""
    return sorted({row["creator_id"] for row in _status_rows(user_id=None)})


def team_parts(*, day, owners, one_by_one=False):
    """{owner: part}: each owner's share of the team view on `day`, what the
    team-wide selectors read from the lead table for that owner's leads,
    JSON-ready: {"day_row": the owner's day counts (`_day_rows`), "due_head":
    the first DUE_PAGE_SIZE items of the owner's due list, "new_leads": the
    trend's new leads per day, oldest first}. Every value depends on the
    owner's leads alone, so a write to them changes that owner's part only.

    Statements: `one_by_one`, four per owner, reading only the index ranges
    of their leads (their counters, day counts, first due page, new leads:
    for the few owners a write changed); otherwise three whatever the number
    of owners (the team's day counts, every owner's first due page through a
    window function, the new leads grouped by owner: a cold team view).
    """
    owners = sorted(owners)
    days = _trend_days(day)
    with shared_queries():
        if one_by_one:
            return {owner: {
                "day_row": _day_rows(day=day, user_id=owner).get(owner) or _empty_day_row(),
                "due_head": _due_items(day=day, user_id=owner, page=1),
                "new_leads": _trend_counts(days, owner, updates=False),
            } for owner in owners}
        day_rows = _day_rows(day=day, user_id=None)
        heads = _due_heads(day=day, owners=owners)
        new_leads = _new_leads_by_owner(days=days, owners=owners)
    return {owner: {"day_row": day_rows.get(owner) or _empty_day_row(),
                    "due_head": heads.get(owner, []),
                    "new_leads": new_leads.get(owner, [0] * TREND_DAYS)} for owner in owners}


def _due_heads(*, day, owners):
    """{owner: the first DUE_PAGE_SIZE items of their due list}, one statement."""
    ranked = Lead.objects.filter(creator_id__in=owners).due_on(day).annotate(
        rank=Window(RowNumber(), partition_by=[F("creator_id")],
                    order_by=[F("followup_date").asc(), F("id").asc()]))
    heads = {}
    for item in _due_item_rows(_due_item_values(ranked.filter(rank__lte=DUE_PAGE_SIZE)
                                                .order_by("creator_id", "followup_date", "id"))):
        heads.setdefault(item["creator_id"], []).append(item)
    return heads


def _new_leads_by_owner(*, days, owners):
    """{owner: the leads they created on each of `days`}, one statement."""
    bounds = [day_bounds(date) for date in days]
    counts = {f"d{index}": Count("pk", filter=Q(created_at__gte=start, created_at__lt=end))
              for index, (start, end) in enumerate(bounds)}
    rows = (Lead.objects.filter(creator_id__in=owners)
            .created_within(bounds[0][0], bounds[-1][1])
            .order_by().values("creator_id").annotate(**counts))
    return {row["creator_id"]: [row[f"d{index}"] for index in range(len(days))]
            for row in rows}


def _due_order(item):
    return datetime.fromisoformat(item["followup_date"]), item["id"]


@contextmanager
def team_from_parts(*, day, parts):
    """Within the block, the team view's selectors (`user_id=None`) for `day`
    take what they would read from the lead table from `parts`, {owner id:
    part} for every id of team_part_owners() (`team_parts`):
    the day counts, the first due page (merged from each owner's first page:
    the team's first DUE_PAGE_SIZE are among them) and the trend's new leads.
    The counters, users, snapshots and the work log are still read (none of
    them the lead table). With current parts the results equal a fresh
    computation (tests compare them)."""
    with shared_queries():
        results, replica = _shared_results.get(), reading_from_replica()
        results[(replica, ("day_rows", day, None))] = {
            owner: part["day_row"] for owner, part in parts.items()}
        merged = heapq.merge(*(part["due_head"] for part in parts.values()), key=_due_order)
        results[(replica, ("due_items", day, None, 1))] = list(
            itertools.islice(merged, DUE_PAGE_SIZE))
        results[(replica, ("trend_new_leads", day, None))] = [
            sum(counts) for counts in zip(*(part["new_leads"] for part in parts.values()),
                                          strict=True)] if parts else [0] * TREND_DAYS
        yield


def dashboard_document(*, day, user, day_metrics, team_performance, due):
    """The full dashboard document (the JSON endpoint's body) from the three
    table families (the page adds the trend for its charts).

    `user` is None for the team view, else {"id", "username"}. No queries.
    """
    return {
        "date": day.isoformat(),
        "user": user,
        "snapshot_taken": team_performance["snapshot_taken"],
        "totals": day_metrics["totals"],
        "status_counts": day_metrics["status_counts"],
        "overdue": day_metrics["overdue"],
        "unscheduled": day_metrics["unscheduled"],
        "followups": team_performance["followups"],
        "team": team_performance["team"],
        "due": due,
    }
