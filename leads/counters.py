"""Reading, compacting and checking the lead counters kept in
``leads_leadcountdelta`` by database triggers (installed by migration 0004;
on SQLite, reinstalled after a table rebuild by leads/db_upkeep.py).

Everything here is raw SQL on the contract table names, because the triggers,
bulk loaders and reporting scripts all work at that level too.
"""

import re
from datetime import date

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router, transaction

from leads.signals import announce_leads_changed

DELTA_TABLE = "leads_leadcountdelta"
LEAD_TABLE = "leads_lead"

# One statement, so the counters and the table are read from one snapshot:
# two separate queries could disagree whenever a write commits in between.
_VERIFY_SQL = f"""
SELECT creator_id, status,
       sum(counted_leads), sum(actual_leads),
       sum(counted_followup), sum(actual_followup)
FROM (
    SELECT creator_id, status,
           leads AS counted_leads, 0 AS actual_leads,
           with_followup AS counted_followup, 0 AS actual_followup
    FROM {DELTA_TABLE}
    UNION ALL
    SELECT creator_id, status, 0, count(*), 0, count(followup_date)
    FROM {LEAD_TABLE}
    GROUP BY creator_id, status
) AS both_sides
GROUP BY creator_id, status
HAVING sum(counted_leads) <> sum(actual_leads)
    OR sum(counted_followup) <> sum(actual_followup)
ORDER BY creator_id, status
"""

_REBUILD_SQL = f"""
INSERT INTO {DELTA_TABLE} (creator_id, status, leads, with_followup)
SELECT creator_id, status, count(*), count(followup_date)
FROM {LEAD_TABLE}
GROUP BY creator_id, status
"""

# Deletes the folded rows and writes their sums in one statement: rows that
# concurrent transactions insert meanwhile get higher ids (or are invisible
# to this snapshot) and stay untouched, so no count is lost or doubled and no
# writer waits. A second compaction running at the same moment blocks on the
# rows the first deletes, then finds them gone and moves nothing.
_COMPACT_POSTGRESQL_SQL = f"""
WITH moved AS (
    DELETE FROM {DELTA_TABLE} WHERE id <= %(max_id)s
    RETURNING creator_id, status, leads, with_followup
), folded AS (
    INSERT INTO {DELTA_TABLE} (creator_id, status, leads, with_followup)
    SELECT creator_id, status, sum(leads), sum(with_followup)
    FROM moved
    GROUP BY creator_id, status
    HAVING sum(leads) <> 0 OR sum(with_followup) <> 0
    RETURNING 1
)
SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM folded)
"""


class LeadCountDeltaManager(models.Manager):
    def _connection(self):
        return connections[self.db or router.db_for_write(self.model)]

    def totals(self, *, creator_id=None):
        """All-time lead counts per (creator, status), in one query.

        Returns ``[{"creator_id", "status", "leads", "with_followup"}, ...]``
        ordered by creator_id then status; groups whose counts are all zero
        (every lead moved away or deleted) are left out.

        Written in SQL and read as tuples: every cold team dashboard reads a
        row per (creator, status), 3,500 at 500 telecallers, and the ORM's
        per-row converters cost more than the statement.
        """
        where, params = ("", [])
        if creator_id is not None:
            where, params = "WHERE creator_id = %s", [creator_id]
        # CAST: PostgreSQL's sum(bigint) is numeric and would arrive as Decimal.
        sql = (f"SELECT creator_id, status, CAST(SUM(leads) AS BIGINT), "
               f"CAST(SUM(with_followup) AS BIGINT) FROM {DELTA_TABLE} {where} "
               f"GROUP BY creator_id, status "
               f"HAVING NOT (SUM(leads) = 0 AND SUM(with_followup) = 0) "
               f"ORDER BY creator_id, status")
        with connections[self.db].cursor() as cursor:  # db: the router's read alias
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [
            {"creator_id": creator_id, "status": status, "leads": leads,
             "with_followup": with_followup}
            for creator_id, status, leads, with_followup in rows
        ]

    def compact(self):
        """Fold every delta row into one row per (creator, status), dropping
        groups that sum to zero, without blocking concurrent writers.

        Returns ``(rows_before, rows_after)``: how many rows were folded and
        how many they became. Rows inserted while it runs are left for the
        next compaction. Sums do not change, so no cache needs invalidating.
        """
        connection = self._connection()
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f"SELECT max(id) FROM {DELTA_TABLE}")
            (max_id,) = cursor.fetchone()
            if max_id is None:
                return 0, 0
            if connection.vendor == "postgresql":
                cursor.execute(_COMPACT_POSTGRESQL_SQL, {"max_id": max_id})
                before, after = cursor.fetchone()
                return before, after
            # SQLite has one writer at a time: the transaction alone makes
            # these two statements atomic for every other connection.
            cursor.execute(f"SELECT count(*) FROM {DELTA_TABLE} WHERE id <= %s", [max_id])
            (before,) = cursor.fetchone()
            cursor.execute(
                f"""
                INSERT INTO {DELTA_TABLE} (creator_id, status, leads, with_followup)
                SELECT creator_id, status, sum(leads), sum(with_followup)
                FROM {DELTA_TABLE}
                WHERE id <= %s
                GROUP BY creator_id, status
                HAVING sum(leads) <> 0 OR sum(with_followup) <> 0
                """,
                [max_id],
            )
            after = cursor.rowcount
            cursor.execute(f"DELETE FROM {DELTA_TABLE} WHERE id <= %s", [max_id])
            return before, after

    def verify(self):
        """Compare the counters with a grouped count over leads_lead.

        Returns the (creator, status) groups that differ, as
        ``[{"creator_id", "status", "counted_leads", "actual_leads",
        "counted_with_followup", "actual_with_followup"}, ...]`` ordered by
        creator_id then status; an empty list means the counters are right.
        Scans the whole lead table: an operator's check, not a page query.
        """
        with self._connection().cursor() as cursor:
            cursor.execute(_VERIFY_SQL)
            rows = cursor.fetchall()
        keys = ("creator_id", "status", "counted_leads", "actual_leads",
                "counted_with_followup", "actual_with_followup")
        return [
            dict(zip(keys, (creator_id, status, *map(int, counts)), strict=True))
            for creator_id, status, *counts in rows
        ]

    def rebuild(self):
        """Recompute the counters from leads_lead, replacing every delta row.

        On PostgreSQL the lead table is locked in SHARE mode meanwhile (reads
        go on, lead writes wait), and the delta table in EXCLUSIVE mode so a
        concurrent compaction cannot re-insert rows this has just replaced.
        Returns the differences found just before rebuilding (as ``verify()``)
        and announces ``leads_changed`` for the creators they concern.
        """
        connection = self._connection()
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Lead table first, as every lead writer does (lead row, then
                # its delta): the same order cannot deadlock.
                cursor.execute(f"LOCK TABLE {LEAD_TABLE} IN SHARE MODE")
                cursor.execute(f"LOCK TABLE {DELTA_TABLE} IN EXCLUSIVE MODE")
            drift = self.verify()
            cursor.execute(f"DELETE FROM {DELTA_TABLE}")
            cursor.execute(_REBUILD_SQL)
            if drift:
                announce_leads_changed(
                    self.model, owner_ids={row["creator_id"] for row in drift},
                    using=connection.alias,
                )
        return drift


# --- Per business day: leads_leaddaydelta -------------------------------------

DAY_TABLE = "leads_leaddaydelta"
DAY_KEY = "creator_id, kind, day, closed"
# The statuses that close a lead (leads.models.CLOSED_STATUSES, repeated here
# because leads.models imports this module; a test keeps the two equal).
CLOSED_STATUS_VALUES = ("completed", "lost")
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-/]+")
DAY_TRIGGER_NAMES = {
    "postgresql": ("leads_lead_day_insert", "leads_lead_day_update",
                   "leads_lead_day_delete", "leads_lead_day_truncate"),
    "sqlite": ("leads_lead_day_insert", "leads_lead_day_followup_update",
               "leads_lead_day_created_update", "leads_lead_day_delete"),
}


def business_zone():
    """settings.TIME_ZONE, checked to be safe to write into SQL as a literal."""
    zone = settings.TIME_ZONE
    if not _ZONE_NAME.fullmatch(zone or ""):
        raise ImproperlyConfigured(f"TIME_ZONE {zone!r} is not a time zone name.")
    return zone


def business_day_sql(vendor, column, zone):
    """SQL for the date of the timestamp `column` in the time zone `zone`
    (NULL for NULL). SQLite has no time-zone data: Django registers
    django_datetime_cast_date on every connection it opens (Python's
    zoneinfo), so these triggers run only on Django's connections."""
    if vendor == "postgresql":
        return f"(({column}) AT TIME ZONE '{zone}')::date"
    return f"django_datetime_cast_date({column}, '{zone}', 'UTC')"


def _closed_sql(column):
    statuses = ", ".join(f"'{status}'" for status in CLOSED_STATUS_VALUES)
    return f"({column} IN ({statuses}))"


def _day_rows_sql(vendor, zone, source, sign):
    """The bucket rows of the leads in `source` (a table or transition
    table), each counting `sign`."""
    followup_day = business_day_sql(vendor, "followup_date", zone)
    created_day = business_day_sql(vendor, "created_at", zone)
    return (
        f"SELECT creator_id, 'followup' AS kind, {followup_day} AS day, "
        f"{_closed_sql('status')} AS closed, {sign} AS n FROM {source} "
        f"UNION ALL SELECT creator_id, 'created', {created_day}, false, {sign} FROM {source}"
    )


def _day_insert_sql(rows_sql):
    return (
        f"INSERT INTO {DAY_TABLE} ({DAY_KEY}, leads) "
        f"SELECT {DAY_KEY}, sum(n) FROM ({rows_sql}) AS changes "
        f"GROUP BY {DAY_KEY} HAVING sum(n) <> 0"
    )


def install_zone_triggers(connection, *, table, names, postgresql_sql, sqlite_sql):
    """(Re)install a day counter's triggers on `table` for the current
    TIME_ZONE, in the caller's transaction: drop the vendor's `names`
    ({"postgresql": [...], "sqlite": [...]}), then run the statements
    `postgresql_sql(zone)` or `sqlite_sql(zone)` builds ({name: SQL}). The
    lead day counters and the call counters share it."""
    zone = business_zone()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            statements = postgresql_sql(zone)
            for name in names["postgresql"]:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        else:
            statements = sqlite_sql(zone)
            for name in names["sqlite"]:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        for sql in statements.values():
            cursor.execute(sql)


def statement_trigger_sql(*, function, table, names, transition, rows, write, empty,
                          update_note):
    """{name: SQL}, PostgreSQL: `function` (a plpgsql function keeping a
    counter table) and the statement-level triggers on `table` that call it,
    `names` (insert, update, delete, truncate). Insert, update and delete see
    their transition tables (`new_<transition>`, `old_<transition>`): a COPY
    of a million rows is one grouped write, not a million. `rows(source,
    sign)`: the SELECT of one transition table's changes, counting `sign`;
    `write(rows_sql)`: the statement writing them; `empty`: what TRUNCATE
    runs; `update_note`: the comment on the update branch, a line each.
    Shared by the lead day counters and the call counters (calls/counters.py)."""
    new, old = f"new_{transition}", f"old_{transition}"
    note = "\n            ".join(f"-- {line}" for line in update_note)
    body = f"""
    CREATE OR REPLACE FUNCTION {function} RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {write(rows(new, 1))};
        ELSIF TG_OP = 'UPDATE' THEN
            {note}
            {write(rows(new, 1) + " UNION ALL " + rows(old, -1))};
        ELSIF TG_OP = 'DELETE' THEN
            {write(rows(old, -1))};
        ELSIF TG_OP = 'TRUNCATE' THEN
            {empty};
        END IF;
        RETURN NULL;
    END
    $$
    """
    insert, update, delete, truncate = names
    call = f"FOR EACH STATEMENT EXECUTE FUNCTION {function}"
    return {
        function: body,
        insert: f"""CREATE TRIGGER {insert} AFTER INSERT ON {table}
            REFERENCING NEW TABLE AS {new}
            {call}""",
        update: f"""CREATE TRIGGER {update} AFTER UPDATE ON {table}
            REFERENCING OLD TABLE AS {old} NEW TABLE AS {new}
            {call}""",
        delete: f"""CREATE TRIGGER {delete} AFTER DELETE ON {table}
            REFERENCING OLD TABLE AS {old}
            {call}""",
        truncate: f"""CREATE TRIGGER {truncate} AFTER TRUNCATE ON {table}
            {call}""",
    }


def postgresql_day_trigger_sql(zone):
    """The function and statement-level triggers that keep leads_leaddaydelta
    on PostgreSQL, for the business days of `zone`."""
    return statement_trigger_sql(
        function="leads_lead_day_delta()", table=LEAD_TABLE,
        names=DAY_TRIGGER_NAMES["postgresql"], transition="leads",
        rows=lambda source, sign: _day_rows_sql("postgresql", zone, source, sign),
        write=_day_insert_sql, empty=f"DELETE FROM {DAY_TABLE}",
        update_note=("Net change per bucket: an update that moves no lead between",
                     "buckets writes nothing."),
    )


def sqlite_day_trigger_sql(zone):
    """{name: CREATE TRIGGER} keeping leads_leaddaydelta on SQLite (row
    triggers: +1/-1 rows), for the business days of `zone`."""
    def day(row, column):
        return business_day_sql("sqlite", f"{row}.{column}", zone)

    def followup(row, sign):
        return (f"({row}.creator_id, 'followup', {day(row, 'followup_date')}, "
                f"{_closed_sql(row + '.status')}, {sign})")

    def created(row, sign):
        return f"({row}.creator_id, 'created', {day(row, 'created_at')}, false, {sign})"

    insert = f"INSERT INTO {DAY_TABLE} ({DAY_KEY}, leads) VALUES"
    names = DAY_TRIGGER_NAMES["sqlite"]
    return {
        names[0]: f"""CREATE TRIGGER {names[0]} AFTER INSERT ON {LEAD_TABLE}
    BEGIN
        {insert} {followup("NEW", 1)}, {created("NEW", 1)};
    END""",
        names[1]: f"""CREATE TRIGGER {names[1]} AFTER UPDATE OF creator_id, status, followup_date
    ON {LEAD_TABLE}
    WHEN NEW.creator_id IS NOT OLD.creator_id
      OR {_closed_sql("NEW.status")} <> {_closed_sql("OLD.status")}
      OR NEW.followup_date IS NOT OLD.followup_date
    BEGIN
        {insert} {followup("OLD", -1)}, {followup("NEW", 1)};
    END""",
        names[2]: f"""CREATE TRIGGER {names[2]} AFTER UPDATE OF creator_id, created_at
    ON {LEAD_TABLE}
    WHEN NEW.creator_id IS NOT OLD.creator_id OR NEW.created_at IS NOT OLD.created_at
    BEGIN
        {insert} {created("OLD", -1)}, {created("NEW", 1)};
    END""",
        names[3]: f"""CREATE TRIGGER {names[3]} AFTER DELETE ON {LEAD_TABLE}
    BEGIN
        {insert} {followup("OLD", -1)}, {created("OLD", -1)};
    END""",
    }


def _day_verify_sql(vendor, zone):
    return f"""
SELECT {DAY_KEY}, sum(counted), sum(actual)
FROM (
    SELECT {DAY_KEY}, leads AS counted, 0 AS actual FROM {DAY_TABLE}
    UNION ALL
    SELECT {DAY_KEY}, 0, sum(n) FROM ({_day_rows_sql(vendor, zone, LEAD_TABLE, 1)}) AS leads
    GROUP BY {DAY_KEY}
) AS both_sides
GROUP BY {DAY_KEY}
HAVING sum(counted) <> sum(actual)
ORDER BY creator_id, kind, day, closed
"""


def _day_compact_postgresql_sql():
    # As _COMPACT_POSTGRESQL_SQL: one statement, writers never wait.
    return f"""
WITH moved AS (
    DELETE FROM {DAY_TABLE} WHERE id <= %(max_id)s
    RETURNING {DAY_KEY}, leads
), folded AS (
    INSERT INTO {DAY_TABLE} ({DAY_KEY}, leads)
    SELECT {DAY_KEY}, sum(leads) FROM moved
    GROUP BY {DAY_KEY}
    HAVING sum(leads) <> 0
    RETURNING 1
)
SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM folded)
"""


class LeadDayDeltaManager(models.Manager):
    def _connection(self):
        return connections[self.db or router.db_for_write(self.model)]

    def install_triggers(self):
        """(Re)install the triggers for the current TIME_ZONE, in the caller's
        transaction. Leaves the counters as they are: see ``rebuild()``."""
        install_zone_triggers(self._connection(), table=LEAD_TABLE, names=DAY_TRIGGER_NAMES,
                              postgresql_sql=postgresql_day_trigger_sql,
                              sqlite_sql=sqlite_day_trigger_sql)

    def compact(self):
        """As ``LeadCountDelta.objects.compact()``: one row per (creator,
        kind, day, closed), buckets summing to zero dropped. Returns
        ``(rows_before, rows_after)``."""
        connection = self._connection()
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f"SELECT max(id) FROM {DAY_TABLE}")
            (max_id,) = cursor.fetchone()
            if max_id is None:
                return 0, 0
            if connection.vendor == "postgresql":
                cursor.execute(_day_compact_postgresql_sql(), {"max_id": max_id})
                before, after = cursor.fetchone()
                return before, after
            cursor.execute(f"SELECT count(*) FROM {DAY_TABLE} WHERE id <= %s", [max_id])
            (before,) = cursor.fetchone()
            cursor.execute(
                f"INSERT INTO {DAY_TABLE} ({DAY_KEY}, leads) SELECT {DAY_KEY}, sum(leads) "
                f"FROM {DAY_TABLE} WHERE id <= %s GROUP BY {DAY_KEY} HAVING sum(leads) <> 0",
                [max_id],
            )
            after = cursor.rowcount
            cursor.execute(f"DELETE FROM {DAY_TABLE} WHERE id <= %s", [max_id])
            return before, after

    def verify(self):
        """The (creator, kind, day, closed) buckets whose count differs from a
        count over leads_lead with the current TIME_ZONE, as ``[{"creator_id",
        "kind", "day", "closed", "counted", "actual"}, ...]`` in that order;
        empty when the counters are right. Scans the whole lead table."""
        connection = self._connection()
        with connection.cursor() as cursor:
            cursor.execute(_day_verify_sql(connection.vendor, business_zone()))
            rows = cursor.fetchall()
        return [
            {"creator_id": creator_id, "kind": kind,
             "day": date.fromisoformat(day) if isinstance(day, str) else day,
             "closed": bool(closed), "counted": int(counted), "actual": int(actual)}
            for creator_id, kind, day, closed, counted, actual in rows
        ]

    def rebuild(self):
        """Reinstall the triggers for the current TIME_ZONE and recompute the
        counters from leads_lead (locks as ``LeadCountDelta.objects.rebuild()``).
        Returns the differences found before (as ``verify()``) and announces
        ``leads_changed`` for their creators."""
        connection = self._connection()
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"LOCK TABLE {LEAD_TABLE} IN SHARE MODE")
                cursor.execute(f"LOCK TABLE {DAY_TABLE} IN EXCLUSIVE MODE")
            drift = self.verify()
            self.install_triggers()
            cursor.execute(f"DELETE FROM {DAY_TABLE}")
            cursor.execute(_day_insert_sql(
                _day_rows_sql(connection.vendor, business_zone(), LEAD_TABLE, 1)))
            if drift:
                announce_leads_changed(
                    self.model, owner_ids={row["creator_id"] for row in drift},
                    using=connection.alias,
                )
        return drift
