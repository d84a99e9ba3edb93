"""Database upkeep after ``migrate``: the SQLite lead-counter triggers.

Django alters most SQLite columns by rebuilding the table (create a new one,
copy the rows, drop the old one, rename), and dropping ``leads_lead`` drops
the triggers that keep ``leads_leadcountdelta`` (see leads/counters.py). A
later migration that alters a lead column would silently stop the counters.
So after every ``migrate`` (``post_migrate``, connected in leads/apps.py) the
triggers are checked and any missing one is reinstalled; writes made while it
was missing were not counted, so the counters are then rebuilt from the lead
table.

PostgreSQL keeps a table's triggers through ALTER TABLE, so nothing is
checked there.

Not a cache receiver: this keeps the database itself consistent.
"""

import logging

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction

from leads.counters import (
    DAY_TABLE,
    DAY_TRIGGER_NAMES,
    DELTA_TABLE,
    LEAD_TABLE,
    business_zone,
    sqlite_day_trigger_sql,
)
from leads.models import Lead, LeadCountDelta, LeadDayDelta

logger = logging.getLogger(__name__)

# The SQLite triggers as the latest migration that installs them (0004) left
# them; a test compares these with what migrating a database produces. The
# statements in that migration are frozen history; these follow the schema.
SQLITE_COUNTER_TRIGGERS = {
    "leads_lead_count_insert": """
    CREATE TRIGGER leads_lead_count_insert AFTER INSERT ON leads_lead
    BEGIN
        INSERT INTO leads_leadcountdelta (creator_id, status, leads, with_followup)
        VALUES (NEW.creator_id, NEW.status, 1, NEW.followup_date IS NOT NULL);
    END
    """,
    "leads_lead_count_update": """
    CREATE TRIGGER leads_lead_count_update AFTER UPDATE OF creator_id, status, followup_date
    ON leads_lead
    WHEN NEW.creator_id IS NOT OLD.creator_id
      OR NEW.status IS NOT OLD.status
      OR (NEW.followup_date IS NULL) <> (OLD.followup_date IS NULL)
    BEGIN
        INSERT INTO leads_leadcountdelta (creator_id, status, leads, with_followup)
        VALUES (OLD.creator_id, OLD.status, -1, -(OLD.followup_date IS NOT NULL)),
               (NEW.creator_id, NEW.status, 1, NEW.followup_date IS NOT NULL);
    END
    """,
    "leads_lead_count_delete": """
    CREATE TRIGGER leads_lead_count_delete AFTER DELETE ON leads_lead
    BEGIN
        INSERT INTO leads_leadcountdelta (creator_id, status, leads, with_followup)
        VALUES (OLD.creator_id, OLD.status, -1, -(OLD.followup_date IS NOT NULL));
    END
    """,
}


def sqlite_counter_triggers():
    """{name: CREATE TRIGGER} of every SQLite trigger that keeps the counters
    as the schema and the current TIME_ZONE want them."""
    return {**SQLITE_COUNTER_TRIGGERS, **sqlite_day_trigger_sql(business_zone())}


def ensure_counter_triggers(*, using=DEFAULT_DB_ALIAS):
    """Reinstall any missing SQLite lead-counter trigger on `using`, then
    rebuild the counters (writes made meanwhile were not counted).

    Returns the names of the triggers reinstalled, in a fixed order; an empty
    list when none was missing, or when there is nothing to check: not SQLite,
    a database that does not hold the lead tables, or a schema migrated back
    to before the counters existed.
    """
    connection = connections[using]
    if connection.vendor != "sqlite" or not router.allow_migrate_model(using, Lead):
        return []
    tables = set(connection.introspection.table_names())
    if not {LEAD_TABLE, DELTA_TABLE} <= tables:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            [LEAD_TABLE],
        )
        present = {name for (name,) in cursor.fetchall()}
    missing = [name for name in SQLITE_COUNTER_TRIGGERS if name not in present]
    with_days = DAY_TABLE in tables
    missing_days = [name for name in DAY_TRIGGER_NAMES["sqlite"]
                    if with_days and name not in present]
    if not missing and not missing_days:
        return []
    # One transaction: a write lands either before (and is recounted) or
    # after (and is counted by the trigger), never in between.
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            for name in missing:
                cursor.execute(SQLITE_COUNTER_TRIGGERS[name])
        drift = LeadCountDelta.objects.db_manager(using).rebuild()
        if with_days:
            # Reinstalls every day trigger, then recounts.
            drift += LeadDayDelta.objects.db_manager(using).rebuild()
    logger.warning(
        "Lead counter triggers were missing on %r (a migration rebuilt %s?): reinstalled %s "
        "and rebuilt the counters, which had drifted in %d group(s).",
        using, LEAD_TABLE, ", ".join(missing + missing_days), len(drift),
    )
    return missing + missing_days


def restore_counter_triggers(sender, *, using, **kwargs):
    """The ``post_migrate`` receiver (connected in leads/apps.py)."""
    ensure_counter_triggers(using=using)
