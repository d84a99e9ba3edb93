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
leads worked away from the day), one users + snapshots query, one page of
due leads (with each lead's call attempts), and the day's calls by caller
(calls.selectors); the trend adds one statement of its own. The count is independent
of the number of users and leads.
"""

import functools
import math
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.core.paginator import InvalidPage
from django.db import connection, connections, router
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from calls.selectors import call_attempts_sql, call_counts_by_user, calls_by_day_sql
from crm.db_routers import reading_from_replica
from crm.raw_sql import datetime_reader
from dashboard import cache
from leads.models import (
    CLOSED_STATUSES,
    FOLLOWUP_WORK_KINDS,
    DayCountKind,
    FollowupSnapshot,
    Lead,
    LeadCountDelta,
    LeadDayDelta,
    LeadStatus,
    WorkedLead,
    day_bounds,
)
from leads.people import lead_owners

DUE_PAGE_SIZE = 50
# The team table on the HTML page: rows per `team_page`. Rendering hundreds of
# rows through the template engine cost more than the rest of a cold page
# (docs/performance.md); the JSON document keeps every row.
TEAM_PAGE_SIZE = 50
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


class TeamPageOutOfRange(InvalidPage):
    """The requested page of the team table does not exist."""

    def __init__(self, *, page, pages):
        self.page = page
        self.pages = pages
        super().__init__(
            f"Page {page} of the team table does not exist: it has {pages} "
            f"page{'s' if pages != 1 else ''}."
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


def _day_rows(*, day, user_id):
    """{creator_id: _empty_day_row() filled in} for creators with anything to count on `day`.

    Per creator: `new_leads` (created within the day); over their leads that
    are not closed, `pending` (follow-up within the day), `overdue` by age
    (follow-up before the day's start) and `unscheduled` (no follow-up);
    `left_day`: the distinct leads with a work-log row of kind moved or closed
    made during the day whose old follow-up was within the day and that are
    not pending now (what the day's initial lost to work).

    One statement (UNION ALL of grouped sums): every lead count comes from
    the counters the database keeps per business day (LeadDayDelta) and per
    status (LeadCountDelta), so its cost does not grow with the lead table;
    only `left_day` reads leads, those of the day's work-log rows.
    """

    def compute():
        return _counted_day_rows(day=day, user_id=user_id)

    return _shared(("day_rows", day, user_id), compute)


# The counts of `_counted_day_rows`, one branch of its statement each.
_DAY_KINDS = ("new_leads", "pending", "unscheduled",
              *(f"overdue_{number}" for number in range(len(OVERDUE_AGES) - 1)),
              "later", "with_followup", "left_day")


def _counted_day_rows(*, day, user_id):
    *younger_ages, (key_oldest, _, _) = OVERDUE_AGES
    # The oldest age has no end: it is every follow-up of the leads not closed
    # (the status counters) less the younger ages, the day's and the later
    # ones, so the statement reads the buckets of a few weeks, never the
    # whole backlog's days.
    alias = router.db_for_read(Lead)
    ops = connections[alias].ops
    one_user = [user_id] if user_id is not None else []

    def bucket(kind, *days):
        return [*one_user, kind, False, *(ops.adapt_datefield_value(d) for d in days)]

    start, end = (ops.adapt_datetimefield_value(bound) for bound in day_bounds(day))
    params = [
        *bucket(DayCountKind.CREATED.value, day),
        *bucket(DayCountKind.FOLLOWUP.value, day),
        *bucket(DayCountKind.FOLLOWUP.value),
        *(value for _, youngest, oldest in younger_ages
          for value in bucket(DayCountKind.FOLLOWUP.value, day - timedelta(days=oldest),
                              day - timedelta(days=youngest))),
        *bucket(DayCountKind.FOLLOWUP.value, day),
        *one_user, *CLOSED_STATUSES,
        *one_user, *FOLLOWUP_WORK_KINDS, ops.adapt_datefield_value(day), start, end,
        start, end, *CLOSED_STATUSES,
    ]
    with connections[alias].cursor() as cursor:
        cursor.execute(_day_rows_sql(alias, one_user=user_id is not None), params)
        fetched = cursor.fetchall()
    # Unpacked by position (_DAY_KINDS' order): a row per owner, 500 of them
    # at 500 telecallers, where a dict per row cost a few milliseconds.
    younger_keys, younger_count = [key for key, _, _ in younger_ages], len(younger_ages)
    rows = {}
    for creator_id, new_leads, pending, unscheduled, *rest in fetched:
        younger, (later, with_followup, left_day) = rest[:younger_count], rest[younger_count:]
        overdue = dict(zip(younger_keys, younger, strict=True))
        overdue[key_oldest] = with_followup - later - pending - sum(younger)
        rows[creator_id] = {"new_leads": new_leads, "pending": pending,
                            "unscheduled": unscheduled, "left_day": left_day,
                            "overdue": overdue}
    return rows


@functools.cache
def _day_rows_sql(alias, *, one_user):
    """`_counted_day_rows`' statement: one branch per count (_DAY_KINDS), each
    a range of one index (index-only on PostgreSQL), folded into one row per
    creator by the database (rows cost more in Python than the sums cost the
    database). Written in SQL: the ORM spent about 7 ms of Python building
    this union on every cold dashboard, several times what the database
    spends running it."""
    quote = connections[alias].ops.quote_name
    days, counts, lead, worked = (LeadDayDelta._meta, LeadCountDelta._meta, Lead._meta,
                                  WorkedLead._meta)

    def column(meta, field):
        return f"{quote(meta.db_table)}.{quote(meta.get_field(field).column)}"

    def in_list(values):
        return ", ".join(["%s"] * len(values))

    def of_user(meta, field):
        return f"{column(meta, field)} = %s AND " if one_user else ""

    def summed(kind, condition):
        # Bucket sums: kind, closed and the day condition (see `bucket` above).
        return (f"SELECT {column(days, 'creator')} AS creator_id, '{kind}' AS kind, "
                f"SUM({column(days, 'leads')}) AS n FROM {quote(days.db_table)} "
                f"WHERE {of_user(days, 'creator')}{column(days, 'kind')} = %s "
                f"AND {column(days, 'closed')} = %s AND {condition} GROUP BY 1")

    day = column(days, "day")
    followup = column(lead, "followup_date")
    branches = [
        summed("new_leads", f"{day} = %s"),
        summed("pending", f"{day} = %s"),
        summed("unscheduled", f"{day} IS NULL"),
        *(summed(f"overdue_{number}", f"{day} >= %s AND {day} <= %s")
          for number in range(len(OVERDUE_AGES) - 1)),
        summed("later", f"{day} > %s"),
        f"SELECT {column(counts, 'creator')} AS creator_id, 'with_followup' AS kind, "
        f"SUM({column(counts, 'with_followup')}) AS n FROM {quote(counts.db_table)} "
        f"WHERE {of_user(counts, 'creator')}"
        f"NOT ({column(counts, 'status')} IN ({in_list(CLOSED_STATUSES)})) GROUP BY 1",
        # LeadQuerySet.worked_off: a work-log row of the day's work whose old
        # follow-up was within the day, on a lead not due within it now.
        f"SELECT {column(lead, 'creator')} AS creator_id, 'left_day' AS kind, "
        f"COUNT(DISTINCT {column(lead, 'id')}) AS n FROM {quote(lead.db_table)} "
        f"INNER JOIN {quote(worked.db_table)} ON {column(lead, 'id')} = {column(worked, 'lead')} "
        f"WHERE {of_user(lead, 'creator')}{column(worked, 'kind')} IN "
        f"({in_list(FOLLOWUP_WORK_KINDS)}) AND {column(worked, 'work_date')} = %s "
        f"AND {column(worked, 'old_followup_date')} >= %s "
        f"AND {column(worked, 'old_followup_date')} < %s "
        f"AND ({followup} IS NULL OR {followup} < %s OR {followup} >= %s "
        f"OR {column(lead, 'status')} IN ({in_list(CLOSED_STATUSES)})) GROUP BY 1",
    ]
    # CAST: PostgreSQL's sums are numeric and would arrive as Decimal.
    sums = ", ".join(f"CAST(SUM(CASE WHEN kind = '{kind}' THEN n ELSE 0 END) AS BIGINT)"
                     for kind in _DAY_KINDS)
    return (f"SELECT creator_id, {sums} FROM ({' UNION ALL '.join(branches)}) AS counts "
            f"GROUP BY creator_id")


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
        "calls": _calls_made(_call_counts(day=day, user_id=user_id).values()),
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
    # One pass over the (creator, status) rows: 3,500 of them at 500 telecallers.
    confirmed, completed, creators = {}, {}, set()
    for row in _status_rows(user_id=user_id):
        creators.add(row["creator_id"])
        if row["status"] == LeadStatus.CONFIRMED:
            confirmed[row["creator_id"]] = row["leads"]
        elif row["status"] == LeadStatus.COMPLETED:
            completed[row["creator_id"]] = row["leads"]
    users = _users_with_snapshot(day=day, user_id=user_id)
    calls_by_user = _call_counts(day=day, user_id=user_id)
    if user_id is None:
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
                "confirmed": confirmed.get(user["id"], 0),
                "completed": completed.get(user["id"], 0),
                "overdue": sum(day_row["overdue"].values()),
                "unscheduled": day_row["unscheduled"],
                "from_snapshot": from_snapshot,
                "calls": _calls_made_by(calls_by_user.get(user["id"])),
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
    "followup_date" (ISO 8601, TIME_ZONE offset), "creator_id", "creator_username",
    "calls": {"attempts", "last_outcome", "last_called_at" (ISO 8601 or None)}}, the
    calls' part read in the same statement (calls.selectors).
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
    """The page's items: LeadQuerySet.due_on(day) in scope, by follow-up then
    id, with their creators' usernames and calls so far, in one statement
    (`_due_items_sql`)."""
    alias = router.db_for_read(Lead)
    ops = connections[alias].ops
    start, end = (ops.adapt_datetimefield_value(bound) for bound in day_bounds(day))
    params = [start, end, *CLOSED_STATUSES, *([user_id] if user_id is not None else []),
              DUE_PAGE_SIZE, (page - 1) * DUE_PAGE_SIZE]
    with connections[alias].cursor() as cursor:
        cursor.execute(_due_items_sql(alias, one_user=user_id is not None), params)
        rows = cursor.fetchall()
    stored = datetime_reader(connections[alias])
    return [
        {
            "id": lead_id,
            "customer_name": customer_name,
            "mobile": mobile,
            "car_registration": car_registration,
            "status": status,
            "followup_date": timezone.localtime(stored(followup)).isoformat(),
            "creator_id": creator_id,
            "creator_username": username,
            "calls": {"attempts": attempts, "last_outcome": last_outcome,
                      "last_called_at": (timezone.localtime(stored(last_at)).isoformat()
                                         if last_at else None)},
        }
        for (lead_id, customer_name, mobile, car_registration, status, followup, creator_id,
             username, attempts, last_outcome, last_at) in rows
    ]


@functools.cache
def _due_items_sql(alias, *, one_user):
    """The due page's statement: a range of the (followup_date) or
    (creator_id, followup_date) index, not closed, the page by follow-up
    then id, the creator joined and the calls' part as correlated
    subqueries (calls.selectors.call_attempts_sql). Written in SQL: the ORM
    spent longer building and reading it than the database spends running it
    (about 1.5 and 2 ms of Python against 1 ms)."""
    quote = connections[alias].ops.quote_name
    lead, user = Lead._meta, get_user_model()._meta

    def column(meta, field):
        return f"{quote(meta.db_table)}.{quote(meta.get_field(field).column)}"

    followup, lead_id = column(lead, "followup_date"), column(lead, "id")
    closed = ", ".join(["%s"] * len(CLOSED_STATUSES))
    return (
        f"SELECT {lead_id}, {column(lead, 'customer_name')}, {column(lead, 'mobile')}, "
        f"{column(lead, 'car_registration')}, {column(lead, 'status')}, {followup}, "
        f"{column(lead, 'creator')}, {column(user, 'username')}, "
        f"{call_attempts_sql(alias, lead_id=lead_id)} "
        f"FROM {quote(lead.db_table)} INNER JOIN {quote(user.db_table)} "
        f"ON {column(lead, 'creator')} = {column(user, 'id')} "
        f"WHERE {followup} >= %s AND {followup} < %s "
        f"AND NOT ({column(lead, 'status')} IN ({closed}))"
        + (f" AND {column(lead, 'creator')} = %s" if one_user else "")
        + f" ORDER BY {followup} ASC, {lead_id} ASC LIMIT %s OFFSET %s"
    )


def dashboard_trend(*, day, user_id):
    """The TREND_DAYS business days ending on `day`, oldest first, every day present:
    [{"date" (ISO), "new_leads", "updates", "calls"}].

    `calls`: calls made that day, everyone's or the user's own (calls.selectors).

    `new_leads`: leads in scope created within the day (TIME_ZONE), from the
    day counters (LeadDayDelta, kind created).
    `updates` ("follow-up updates"): work-log rows of kind moved or closed
    with that work date, whatever day the follow-up was on (overdue work
    included): everyone's for the team view, the user's own work
    (WorkedLead.user) for one user, whoever owns the lead.

    One statement of three grouped ranges (`_trend_counts`): the new leads'
    day counter rows (so it does not grow with the lead table), the work-log
    rows over (work_date, kind) or (user_id, work_date, kind), the calls'
    day counter rows (calls.selectors.calls_by_day_sql). Written in SQL:
    building the same values with the ORM cost more in Python than the
    statement costs the database (docs/performance.md).
    """
    days = _trend_days(day)
    counts = _trend_counts(days, user_id)
    return [
        {"date": date.isoformat(), "new_leads": counts[index],
         "updates": counts[TREND_DAYS + index], "calls": counts[2 * TREND_DAYS + index]}
        for index, date in enumerate(days)
    ]


def _trend_days(day):
    return [day - timedelta(days=TREND_DAYS - 1 - offset) for offset in range(TREND_DAYS)]


def _trend_counts(days, user_id):
    """The trend's counts in one statement, as one list: each day's new
    leads, then each day's updates, then each day's calls, TREND_DAYS values
    a series, oldest day first."""
    alias = router.db_for_read(Lead)
    ops = connections[alias].ops
    first, last = ops.adapt_datefield_value(days[0]), ops.adapt_datefield_value(days[-1])
    user = [user_id] if user_id is not None else []
    params = [*user, DayCountKind.CREATED.value, False, first, last,
              *user, first, last, *FOLLOWUP_WORK_KINDS, *user, first, last]
    with connections[alias].cursor() as cursor:
        cursor.execute(_trend_sql(alias, one_user=user_id is not None), params)
        rows = cursor.fetchall()
    series = ("new_leads", "updates", "calls")
    counts = {name: [0] * len(days) for name in series}
    index_of = {day.isoformat(): index for index, day in enumerate(days)}
    for name, day, n in rows:
        # SQLite returns dates as text; int(): PostgreSQL's sums are numeric.
        counts[name][index_of[str(day)]] = int(n)
    return [n for name in series for n in counts[name]]


@functools.cache
def _trend_sql(alias, *, one_user):
    """`_trend_counts`' statement: (series, day, count) rows, a day absent
    when nothing counts for it. One grouped index range per series: at
    PostgreSQL about a quarter of the planning time of 3 x TREND_DAYS scalar
    subqueries, the same index entries read."""
    quote = connections[alias].ops.quote_name
    counters, worked = LeadDayDelta._meta, WorkedLead._meta

    def column(meta, field):
        return quote(meta.get_field(field).column)

    day, work_date = column(counters, "day"), column(worked, "work_date")
    kinds = ", ".join(["%s"] * len(FOLLOWUP_WORK_KINDS))
    new_leads = (
        f"SELECT 'new_leads' AS series, {day} AS day, SUM({column(counters, 'leads')}) AS n "
        f"FROM {quote(counters.db_table)} WHERE "
        + (f"{column(counters, 'creator')} = %s AND " if one_user else "")
        # closed: always false for kind created; named so the index serves it.
        + f"{column(counters, 'kind')} = %s AND {column(counters, 'closed')} = %s "
        f"AND {day} >= %s AND {day} <= %s GROUP BY {day}")
    updates = (
        f"SELECT 'updates' AS series, {work_date} AS day, COUNT(*) AS n "
        f"FROM {quote(worked.db_table)} WHERE "
        + (f"{column(worked, 'user')} = %s AND " if one_user else "")
        + f"{work_date} >= %s AND {work_date} <= %s AND {column(worked, 'kind')} "
        f"IN ({kinds}) GROUP BY {work_date}")
    calls = calls_by_day_sql(alias, one_user=one_user)
    return " UNION ALL ".join((new_leads, updates, calls))


def new_for_owner_count(*, user_id):
    """How many of the user's leads someone else gave them that they have not
    updated since ("New for you"): a count over a small partial index."""
    return Lead.objects.filter(creator_id=user_id, new_for_owner=True).count()


def team_table_page(team, *, page):
    """{"rows", "page", "pages"}: page `page` of a team table (the `team` rows
    of dashboard_team_performance, in their order), TEAM_PAGE_SIZE rows a page;
    page 1 exists even when empty. Raises TeamPageOutOfRange. No queries."""
    pages = max(1, math.ceil(len(team) / TEAM_PAGE_SIZE))
    if not 1 <= page <= pages:
        raise TeamPageOutOfRange(page=page, pages=pages)
    offset = (page - 1) * TEAM_PAGE_SIZE
    return {"rows": team[offset:offset + TEAM_PAGE_SIZE], "page": page, "pages": pages}


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
        "calls": day_metrics["calls"],
        "followups": team_performance["followups"],
        "team": team_performance["team"],
        "due": due,
    }


# --- Calls (the calls app's log, counted for the caller on the day made) ------

def _call_counts(*, day, user_id):
    """calls.selectors.call_counts_by_user, one statement the day and team
    families share within a request."""
    return _shared(("calls", day, user_id),
                   lambda: call_counts_by_user(day=day, user_id=user_id))


def _calls_made_by(counts):
    """{"attempts", "connected", "connect_pct"} of one caller's counts (a dict
    of call_counts' "by_user"; None: no calls). Per team row, so no sums."""
    counts = counts or {}
    attempts, connected = counts.get("attempts", 0), counts.get("connected", 0)
    return {"attempts": attempts, "connected": connected,
            "connect_pct": _percentage(connected, attempts)}


def _calls_made(counts):
    """_calls_made_by summed over `counts`, dicts of call_counts' "by_user"."""
    return _calls_made_by({"attempts": sum(row.get("attempts", 0) for row in counts),
                           "connected": sum(row.get("connected", 0) for row in counts)})
