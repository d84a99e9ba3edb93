"""The call counters: per (caller, business day) how many calls were made and
how many were answered, kept in ``calls_calldaycount`` by database triggers
on ``calls_calllog`` (installed by migration 0002; on SQLite, reinstalled
after a table rebuild by calls/db_upkeep.py), so every write path counts:
the ORM, QuerySet update/delete, bulk_create, the lead delete cascade, COPY
loaders and outside SQL scripts.

One summary row per (user, day), added to in place (an UPSERT), not
append-only deltas as the lead counters: a caller's calls are written by that
caller, one at a time, so two writers rarely want the same row, and the row a
page reads stays one per caller and day without a compaction job. A statement
touching several callers (a lead delete cascade, a manager's bulk update)
upserts its rows in (day, user) order, so two such statements wait for each
other rather than deadlock.

Raw SQL on the contract table names, like leads/counters.py.
"""

from datetime import date

from django.db import connections, models, router, transaction

from leads.counters import (
    business_day_sql,
    business_zone,
    install_zone_triggers,
    statement_trigger_sql,
)
from leads.signals import announce_leads_changed

CALL_TABLE = "calls_calllog"
COUNT_TABLE = "calls_calldaycount"
COUNT_KEY = "user_id, day"
# The outcomes in which a person answered (calls.models.ANSWERED_OUTCOMES,
# repeated because calls.models imports this module; a test keeps them equal).
ANSWERED_OUTCOME_VALUES = ("connected", "call_back_later", "not_interested", "wrong_number")
TRIGGER_NAMES = {
    "postgresql": ("calls_calllog_count_insert", "calls_calllog_count_update",
                   "calls_calllog_count_delete", "calls_calllog_count_truncate"),
    "sqlite": ("calls_calllog_count_insert", "calls_calllog_count_update",
               "calls_calllog_count_delete"),
}


def _answered_sql(column):
    outcomes = ", ".join(f"'{outcome}'" for outcome in ANSWERED_OUTCOME_VALUES)
    return f"({column} IN ({outcomes}))"


def _call_rows_sql(vendor, zone, source, sign):
    """(user_id, day, attempts, connected) of each call in `source` (a table
    or a transition table), each counting `sign`."""
    day = business_day_sql(vendor, "called_at", zone)
    answered = _answered_sql("outcome")
    connected = f"CASE WHEN {answered} THEN {sign} ELSE 0 END"
    return (f"SELECT user_id, {day} AS day, {sign} AS attempts, {connected} AS connected "
            f"FROM {source}")


def _grouped_sql(rows_sql):
    """The net (user, day) changes of `rows_sql`, ordered by day then user:
    the order every upsert locks its rows in, and the order a bulk load or a
    rebuild writes them, so a day's rows share a page or two."""
    return (f"SELECT {COUNT_KEY}, sum(attempts) AS attempts, sum(connected) AS connected "
            f"FROM ({rows_sql}) AS changes GROUP BY {COUNT_KEY} "
            f"HAVING sum(attempts) <> 0 OR sum(connected) <> 0 ORDER BY day, user_id")


_ADD_ON_CONFLICT = (
    f"ON CONFLICT ({COUNT_KEY}) DO UPDATE SET "
    f"attempts = {COUNT_TABLE}.attempts + excluded.attempts, "
    f"connected = {COUNT_TABLE}.connected + excluded.connected"
)


def _upsert_sql(rows_sql):
    return (f"INSERT INTO {COUNT_TABLE} ({COUNT_KEY}, attempts, connected) "
            f"{_grouped_sql(rows_sql)} {_ADD_ON_CONFLICT}")


def postgresql_trigger_sql(zone):
    """{name: SQL}: the function and the statement-level triggers (transition
    tables: a COPY of a million calls is one grouped upsert) that keep
    calls_calldaycount on PostgreSQL, for the business days of `zone`."""
    return statement_trigger_sql(
        function="calls_calllog_count()", table=CALL_TABLE,
        names=TRIGGER_NAMES["postgresql"], transition="calls",
        rows=lambda source, sign: _call_rows_sql("postgresql", zone, source, sign),
        write=_upsert_sql, empty=f"DELETE FROM {COUNT_TABLE}",
        update_note=("Net change per (user, day): an update that moves no call (a",
                     "note, a duration) writes nothing."),
    )


def sqlite_trigger_sql(zone):
    """{name: CREATE TRIGGER} keeping calls_calldaycount on SQLite (row
    triggers, one upsert per call written), for the business days of `zone`."""
    def upsert(row, sign):
        day = business_day_sql("sqlite", f"{row}.called_at", zone)
        connected = f"{sign} * {_answered_sql(row + '.outcome')}"
        return (f"INSERT INTO {COUNT_TABLE} ({COUNT_KEY}, attempts, connected) "
                f"VALUES ({row}.user_id, {day}, {sign}, {connected}) {_ADD_ON_CONFLICT};")

    insert, update, delete = TRIGGER_NAMES["sqlite"]
    return {
        insert: f"""CREATE TRIGGER {insert} AFTER INSERT ON {CALL_TABLE}
    BEGIN
        {upsert("NEW", 1)}
    END""",
        update: f"""CREATE TRIGGER {update} AFTER UPDATE OF user_id, called_at, outcome
    ON {CALL_TABLE}
    WHEN NEW.user_id IS NOT OLD.user_id OR NEW.called_at IS NOT OLD.called_at
      OR {_answered_sql("NEW.outcome")} <> {_answered_sql("OLD.outcome")}
    BEGIN
        {upsert("OLD", -1)}
        {upsert("NEW", 1)}
    END""",
        delete: f"""CREATE TRIGGER {delete} AFTER DELETE ON {CALL_TABLE}
    BEGIN
        {upsert("OLD", -1)}
    END""",
    }


def backfill_sql(vendor, zone):
    """Count every call in calls_calllog into an empty calls_calldaycount."""
    return (f"INSERT INTO {COUNT_TABLE} ({COUNT_KEY}, attempts, connected) "
            f"{_grouped_sql(_call_rows_sql(vendor, zone, CALL_TABLE, 1))}")


def _verify_sql(vendor, zone):
    # One statement: the counters and the calls from one snapshot.
    return f"""
SELECT {COUNT_KEY}, sum(counted_attempts), sum(actual_attempts),
       sum(counted_connected), sum(actual_connected)
FROM (
    SELECT {COUNT_KEY}, attempts AS counted_attempts, 0 AS actual_attempts,
           connected AS counted_connected, 0 AS actual_connected
    FROM {COUNT_TABLE}
    UNION ALL
    SELECT {COUNT_KEY}, 0, sum(attempts), 0, sum(connected)
    FROM ({_call_rows_sql(vendor, zone, CALL_TABLE, 1)}) AS calls
    GROUP BY {COUNT_KEY}
) AS both_sides
GROUP BY {COUNT_KEY}
HAVING sum(counted_attempts) <> sum(actual_attempts)
    OR sum(counted_connected) <> sum(actual_connected)
ORDER BY {COUNT_KEY}
"""


class CallDayCountManager(models.Manager):
    def _connection(self):
        return connections[self.db or router.db_for_write(self.model)]

    def install_triggers(self):
        """(Re)install the triggers for the current TIME_ZONE, in the caller's
        transaction. Leaves the counts as they are: see ``rebuild()``."""
        install_zone_triggers(self._connection(), table=CALL_TABLE, names=TRIGGER_NAMES,
                              postgresql_sql=postgresql_trigger_sql,
                              sqlite_sql=sqlite_trigger_sql)

    def verify(self):
        """The (user, day) groups whose counts differ from a grouped count over
        calls_calllog with the current TIME_ZONE, as ``[{"user_id", "day",
        "counted_attempts", "actual_attempts", "counted_connected",
        "actual_connected"}, ...]`` ordered by user and day; empty when the
        counters are right. Scans the whole call table: an operator's check."""
        connection = self._connection()
        with connection.cursor() as cursor:
            cursor.execute(_verify_sql(connection.vendor, business_zone()))
            rows = cursor.fetchall()
        return [
            {"user_id": user_id,
             "day": date.fromisoformat(day) if isinstance(day, str) else day,
             "counted_attempts": int(counted_attempts), "actual_attempts": int(actual_attempts),
             "counted_connected": int(counted_connected),
             "actual_connected": int(actual_connected)}
            for user_id, day, counted_attempts, actual_attempts, counted_connected,
            actual_connected in rows
        ]

    def rebuild(self):
        """Reinstall the triggers for the current TIME_ZONE and recount every
        (user, day) from calls_calllog. On PostgreSQL the call table is locked
        in SHARE mode meanwhile (reads go on, call writes wait). Returns the
        differences found before (as ``verify()``) and announces
        ``leads_changed`` for the callers they concern."""
        connection = self._connection()
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Call table first, as every call writer does (call row, then
                # its counter row): the same order cannot deadlock.
                cursor.execute(f"LOCK TABLE {CALL_TABLE} IN SHARE MODE")
                cursor.execute(f"LOCK TABLE {COUNT_TABLE} IN EXCLUSIVE MODE")
            drift = self.verify()
            self.install_triggers()
            cursor.execute(f"DELETE FROM {COUNT_TABLE}")
            cursor.execute(backfill_sql(connection.vendor, business_zone()))
            if drift:
                announce_leads_changed(
                    self.model, owner_ids={row["user_id"] for row in drift},
                    using=connection.alias,
                )
        return drift
