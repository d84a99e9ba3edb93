"""Questions asked about calls: the due cards' attempts, the day's and the
trend's call counts for the dashboard. (A lead's calls on its timeline:
timeline.sources.)"""

import functools

from django.db import connections

from calls.models import CallDayCount, CallLog


@functools.cache
def call_attempts_sql(alias, *, lead_id):
    """Select-list items for a statement over leads written by hand (the
    dashboard's due page): `call_attempts` (0 for none), `last_call_outcome`
    and `last_call_at` (None for none) of the lead whose id is the SQL
    expression `lead_id`. Correlated subqueries, so a page of leads gets its
    attempts in the statement that loads it: each an index range on
    (lead, called_at)."""
    quote = connections[alias].ops.quote_name
    meta = CallLog._meta
    table, lead, called_at, outcome, pk = (
        quote(meta.db_table), quote(meta.get_field("lead").column),
        quote(meta.get_field("called_at").column), quote(meta.get_field("outcome").column),
        quote(meta.pk.column))
    last = f"FROM {table} WHERE {lead} = {lead_id} ORDER BY {called_at} DESC, {pk} DESC LIMIT 1"
    return (f"(SELECT COUNT(*) FROM {table} WHERE {lead} = {lead_id}) AS call_attempts, "
            f"(SELECT {outcome} {last}) AS last_call_outcome, "
            f"(SELECT {called_at} {last}) AS last_call_at")


def call_counts_by_user(*, day, user_id):
    """{caller id: {"attempts", "connected"}} of the calls made within the
    business day `day`: everyone's (`user_id` None) or that user's own (the
    caller, whoever owns the lead). `connected` counts ANSWERED_OUTCOMES.
    Callers without a call that day are left out.

    Reads the day's counter rows (CallDayCount, one per caller), through the
    (day) or the (user, day) index, not the calls themselves."""
    rows = CallDayCount.objects.filter(day=day).exclude(attempts=0).order_by()
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    return {row["user_id"]: {"attempts": row["attempts"], "connected": row["connected"]}
            for row in rows.values("user_id", "attempts", "connected")}


@functools.cache
def calls_by_day_sql(alias, *, one_user):
    """A SELECT of (series 'calls', day, calls made that day) for the business
    days from %s to %s (dates; with `one_user`, the user %s comes first), one
    row per day with calls, for a statement that counts per day (the
    dashboard's trend). Sums over the days' counter rows (CallDayCount, one
    per caller and day: a range of the (day) or the (user, day) index), so
    it does not grow with the calls made a day. PostgreSQL's sum(bigint) is
    numeric: the caller converts."""
    quote = connections[alias].ops.quote_name
    meta = CallDayCount._meta
    day, user = quote(meta.get_field("day").column), quote(meta.get_field("user").column)
    return (
        f"SELECT 'calls' AS series, {day} AS day, SUM({quote(meta.get_field('attempts').column)}) "
        f"AS n FROM {quote(meta.db_table)} WHERE "
        + (f"{user} = %s AND " if one_user else "")
        + f"{day} >= %s AND {day} <= %s GROUP BY {day}"
    )
