"""Questions asked about calls: a lead's calls, the due cards' attempts, the
day's and the trend's call counts for the dashboard."""

import functools

from django.db import connections
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from calls.models import CallDayCount, CallLog


def calls_for_lead(lead):
    """The lead's calls, newest first, each with its caller loaded (a queryset:
    slice it to paginate)."""
    return CallLog.objects.for_lead(lead).select_related("user")


def call_attempt_annotations():
    """Annotations for a Lead queryset: `call_attempts` (how many calls, 0 for
    none), `last_call_outcome` and `last_call_at` (None for none).

    Correlated subqueries, so a page of leads gets its attempts in the
    statement that loads it: each is an index range on (lead, called_at).
    """
    calls = CallLog.objects.filter(lead=OuterRef("pk")).order_by()
    last = calls.order_by("-called_at", "-pk")
    return {
        "call_attempts": Coalesce(
            Subquery(calls.values("lead").annotate(n=Count("*")).values("n"),
                     output_field=IntegerField()),
            Value(0),
        ),
        "last_call_outcome": Subquery(last.values("outcome")[:1]),
        "last_call_at": Subquery(last.values("called_at")[:1]),
    }


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
def calls_made_sql(alias, *, one_user):
    """A scalar SQL subquery: how many calls were made on the business day
    %s (a date; and, with `one_user`, by the user %s), for a statement that
    counts per day (the dashboard's trend). A sum over that day's counter
    rows (CallDayCount: one per caller, or the one user's), so it does not
    grow with the calls made a day. PostgreSQL's sum(bigint) is numeric: the
    caller converts."""
    quote = connections[alias].ops.quote_name
    meta = CallDayCount._meta
    return (
        f"(SELECT COALESCE(SUM({quote(meta.get_field('attempts').column)}), 0) "
        f"FROM {quote(meta.db_table)} WHERE {quote(meta.get_field('day').column)} = %s"
        + (f" AND {quote(meta.get_field('user').column)} = %s)" if one_user else ")")
    )
