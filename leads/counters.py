"""Reading, compacting and checking the lead counters kept in
``leads_leadcountdelta`` by database triggers (installed by migration 0004;
on SQLite, reinstalled after a table rebuild by leads/db_upkeep.py).

Everything here is raw SQL on the contract table names, because the triggers,
bulk loaders and reporting scripts all work at that level too.
"""

from django.db import connections, models, router, transaction
from django.db.models import Sum

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
        """
        rows = self.order_by()
        if creator_id is not None:
            rows = rows.filter(creator_id=creator_id)
        # Annotations may not reuse the field names, hence the renaming below.
        rows = (
            rows.values("creator_id", "status")
            .annotate(sum_leads=Sum("leads"), sum_with_followup=Sum("with_followup"))
            .exclude(sum_leads=0, sum_with_followup=0)
            .order_by("creator_id", "status")
        )
        # int(): PostgreSQL's sum(bigint) is numeric and arrives as Decimal.
        return [
            {
                "creator_id": row["creator_id"],
                "status": row["status"],
                "leads": int(row["sum_leads"]),
                "with_followup": int(row["sum_with_followup"]),
            }
            for row in rows
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
