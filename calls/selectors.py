"""Questions asked about calls: a lead's calls, the due cards' attempts, the
day's and the trend's call counts for the dashboard."""

import functools

from django.db import connections
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from calls.models import ANSWERED_OUTCOMES, CallLog
from leads.models import day_bounds


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
    One grouped statement over the (called_at, user, outcome) or (user,
    called_at, outcome) index."""
    calls = CallLog.objects.made_within(*day_bounds(day)).order_by()
    if user_id is not None:
        calls = calls.filter(user_id=user_id)
    rows = calls.values("user_id").annotate(
        attempts=Count("*"), connected=Count("pk", filter=Q(outcome__in=ANSWERED_OUTCOMES)),
    )
    return {row["user_id"]: {"attempts": row["attempts"], "connected": row["connected"]}
            for row in rows}


@functools.cache
def calls_made_sql(alias, *, one_user):
    """A scalar SQL subquery: how many calls were made in [%s, %s) (and, with
    `one_user`, by the user %s), for a statement that counts per day (the
    dashboard's trend); a range count over the (called_at, ...) or (user,
    called_at, ...) index."""
    quote = connections[alias].ops.quote_name
    meta = CallLog._meta
    called_at = quote(meta.get_field("called_at").column)
    return (
        f"(SELECT COUNT(*) FROM {quote(meta.db_table)} WHERE {called_at} >= %s "
        f"AND {called_at} < %s"
        + (f" AND {quote(meta.get_field('user').column)} = %s)" if one_user else ")")
    )
