"""Generated calls for the benchmark (bench_dashboard --calls)."""

import random
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from calls.models import CallLog, CallOutcome
from crm.raw_sql import copy_field, write_copy_lines
from leads.signals import announce_leads_changed

CALL_COLUMNS = ("lead_id", "user_id", "called_at", "outcome", "note", "duration")
# Rough shares of a telecaller's calls: most are not answered.
OUTCOME_WEIGHTS = {
    CallOutcome.CONNECTED: 30, CallOutcome.NO_ANSWER: 30, CallOutcome.BUSY: 12,
    CallOutcome.SWITCHED_OFF: 8, CallOutcome.WRONG_NUMBER: 3,
    CallOutcome.CALL_BACK_LATER: 12, CallOutcome.NOT_INTERESTED: 5,
}


def generate_call_rows(*, count, lead_ids, caller_ids, days, seed):
    """Yield `count` call rows (CALL_COLUMNS order), oldest first, spread
    evenly over the last `days` business days (today's so far included),
    between 09:00 and 20:00 local time, on random leads of the `lead_ids`
    range by random callers. Deterministic for a seed and a day."""
    rng = random.Random(seed)
    now = timezone.localtime()
    first_day = now.date() - timedelta(days=days - 1)
    outcomes = [str(outcome) for outcome in OUTCOME_WEIGHTS]
    weights = list(OUTCOME_WEIGHTS.values())
    low, high = lead_ids
    per_day = max(1, count // days)
    for index in range(count):
        day = first_day + timedelta(days=min(index // per_day, days - 1))
        moment = timezone.make_aware(
            timezone.datetime(day.year, day.month, day.day, 9)
            + timedelta(seconds=rng.randrange(11 * 3600)))
        if moment > now:
            moment = now - timedelta(seconds=rng.randrange(3600))
        outcome = rng.choices(outcomes, weights)[0]
        answered = outcome in ("connected", "call_back_later", "not_interested")
        yield (rng.randint(low, high), caller_ids[rng.randrange(len(caller_ids))], moment,
               outcome, "", rng.randrange(20, 600) if answered else None)


def load_calls(*, rows, batch_size=5000):
    """Insert call rows: COPY on PostgreSQL, bulk_create batches elsewhere.
    Returns the number written; announces the callers once."""
    callers = set()
    written = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":

            def lines():
                for row in rows:
                    callers.add(row[1])
                    yield "\t".join(map(copy_field, row))

            copy_sql = f"COPY {CallLog._meta.db_table} ({', '.join(CALL_COLUMNS)}) FROM STDIN"
            with connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
                written = write_copy_lines(copy, lines(), chunk_rows=batch_size)
            announce_leads_changed(CallLog, owner_ids=callers)
            return written
        batch = []
        for row in rows:
            batch.append(CallLog(**dict(zip(CALL_COLUMNS, row, strict=True))))
            if len(batch) >= batch_size:
                written += len(CallLog.objects.bulk_create(batch))
                batch = []
        if batch:
            written += len(CallLog.objects.bulk_create(batch))
    return written


# The call behind each piece of the demo's recorded work (seed_demo): a lead
# moved to a later follow-up was mostly not reached.
MOVED_OUTCOME_WEIGHTS = {
    CallOutcome.NO_ANSWER: 35, CallOutcome.BUSY: 15, CallOutcome.SWITCHED_OFF: 10,
    CallOutcome.CALL_BACK_LATER: 25, CallOutcome.CONNECTED: 15,
}


def generate_demo_calls(*, work, seed):
    """Call rows (CALL_COLUMNS order) for the demo's work log: one call a few
    minutes before each piece of work, by the user who did it, with an
    outcome that fits (a completed lead: connected; a lost one: not
    interested; a moved follow-up: mostly not reached). `work` yields
    (lead id, user id, kind, worked_at, lead status) tuples."""
    rng = random.Random(f"demo-calls-{seed}")
    outcomes, weights = list(MOVED_OUTCOME_WEIGHTS), list(MOVED_OUTCOME_WEIGHTS.values())
    for lead_id, user_id, kind, worked_at, status in work:
        if kind == "closed":
            outcome = CallOutcome.NOT_INTERESTED if status == "lost" else CallOutcome.CONNECTED
        else:
            outcome = rng.choices(outcomes, weights)[0]
        answered = outcome in (CallOutcome.CONNECTED, CallOutcome.CALL_BACK_LATER,
                               CallOutcome.NOT_INTERESTED)
        yield (lead_id, user_id, worked_at - timedelta(minutes=rng.randint(1, 5)),
               str(outcome), "", rng.randrange(30, 400) if answered else None)
