"""Database upkeep after ``migrate``: the SQLite lead-counter and lead-history triggers.

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
from leads.models import Lead, LeadChange, LeadCountDelta, LeadDayDelta

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


# The SQLite history triggers as the latest migration that installs them
# (0014_lead_history) left them; a test compares them with a migrated database.
SQLITE_HISTORY_TRIGGERS = {
    "leads_lead_history_insert": """
    CREATE TRIGGER leads_lead_history_insert AFTER INSERT ON leads_lead
    BEGIN
        INSERT INTO leads_leadchange
            (lead_id, kind, field, old_value, new_value, actor_id, via, changed_at)
        VALUES (NEW.id, 'created', '', '', NEW.customer_name || ' (' || NEW.mobile || ')',
                CASE WHEN NEW.history_token IS NOT NULL THEN NEW.history_actor_id END,
                CASE WHEN NEW.history_token IS NOT NULL THEN coalesce(NEW.history_via, 'script')
                     ELSE 'outside' END,
                CASE WHEN NEW.history_token IS NOT NULL THEN NEW.modified_at
                     ELSE strftime('%Y-%m-%d %H:%M:%f', 'now') END);
    END
    """,
    "leads_lead_history_update": """
    CREATE TRIGGER leads_lead_history_update
    AFTER UPDATE OF customer_name, mobile, car_registration, status, remarks ON leads_lead
    BEGIN
        INSERT INTO leads_leadchange
            (lead_id, kind, field, old_value, new_value, actor_id, via, changed_at)
        SELECT NEW.id, c.kind, c.field, c.old_value, c.new_value,
               CASE WHEN NEW.history_token IS NOT OLD.history_token THEN NEW.history_actor_id END,
               CASE WHEN NEW.history_token IS NOT OLD.history_token
                    THEN coalesce(NEW.history_via, 'script') ELSE 'outside' END,
               CASE WHEN NEW.history_token IS NOT OLD.history_token THEN NEW.modified_at
                    ELSE strftime('%Y-%m-%d %H:%M:%f', 'now') END
        FROM (
            SELECT 'changed' AS kind, 'customer_name' AS field,
                   OLD.customer_name AS old_value, NEW.customer_name AS new_value
            UNION ALL SELECT 'changed', 'mobile', OLD.mobile, NEW.mobile
            UNION ALL SELECT 'changed', 'car_registration', OLD.car_registration,
                             NEW.car_registration
            UNION ALL SELECT 'changed', 'status', OLD.status, NEW.status
            UNION ALL SELECT
                CASE WHEN substr(NEW.remarks, 1, length(OLD.remarks)) = OLD.remarks
                     THEN 'remark_added' ELSE 'changed' END,
                'remarks',
                CASE WHEN substr(NEW.remarks, 1, length(OLD.remarks)) = OLD.remarks
                     THEN '' ELSE OLD.remarks END,
                CASE WHEN substr(NEW.remarks, 1, length(OLD.remarks)) = OLD.remarks
                     THEN trim(substr(NEW.remarks, length(OLD.remarks) + 1),
                               ' ' || char(13) || char(10))
                     ELSE NEW.remarks END
        ) AS c
        WHERE c.old_value IS NOT c.new_value;
    END
    """,
    "leads_lead_history_delete": """
    CREATE TRIGGER leads_lead_history_delete AFTER DELETE ON leads_lead
    BEGIN
        INSERT INTO leads_leadchange
            (lead_id, kind, field, old_value, new_value, actor_id, via, changed_at)
        VALUES (OLD.id, 'deleted', '', OLD.customer_name || ' (' || OLD.mobile || ')', '',
                CASE WHEN OLD.history_token < 0 THEN OLD.history_actor_id END,
                CASE WHEN OLD.history_token < 0 THEN coalesce(OLD.history_via, 'script')
                     ELSE 'outside' END,
                CASE WHEN OLD.history_token < 0 THEN OLD.modified_at
                     ELSE strftime('%Y-%m-%d %H:%M:%f', 'now') END);
    END
    """,
}


def _triggers_on_leads(connection):
    """The names of the SQLite triggers on the lead table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            [LEAD_TABLE],
        )
        return {name for (name,) in cursor.fetchall()}


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
    present = _triggers_on_leads(connection)
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
    # Nothing drifted: the routine case of a fresh database, whose later
    # migrations rebuilt the table before any lead existed. Drift means writes
    # went uncounted for a while: worth a warning.
    logger.log(
        logging.WARNING if drift else logging.INFO,
        "Lead counter triggers were missing on %r (a migration rebuilt %s?): reinstalled %s "
        "and rebuilt the counters, which had drifted in %d group(s).",
        using, LEAD_TABLE, ", ".join(missing + missing_days), len(drift),
    )
    return missing + missing_days


def ensure_history_triggers(*, using=DEFAULT_DB_ALIAS):
    """Reinstall any missing SQLite lead-history trigger on `using`; return
    the names reinstalled (see ensure_counter_triggers for when none are).

    Writes made while one was missing are not in the history, and cannot be
    recovered: the warning says so.
    """
    connection = connections[using]
    if connection.vendor != "sqlite" or not router.allow_migrate_model(using, Lead):
        return []
    if not {LEAD_TABLE, LeadChange._meta.db_table} <= set(connection.introspection.table_names()):
        return []
    present = _triggers_on_leads(connection)
    missing = [name for name in SQLITE_HISTORY_TRIGGERS if name not in present]
    with connection.cursor() as cursor:
        for name in missing:
            cursor.execute(SQLITE_HISTORY_TRIGGERS[name])
    if missing:
        logger.warning(
            "Lead history triggers were missing on %r (a migration rebuilt %s?): reinstalled "
            "%s; lead changes made while they were missing are not in the history.",
            using, LEAD_TABLE, ", ".join(missing),
        )
    return missing


def restore_counter_triggers(sender, *, using, **kwargs):
    """The ``post_migrate`` receiver (connected in leads/apps.py): the counter
    and the history triggers."""
    ensure_counter_triggers(using=using)
    ensure_history_triggers(using=using)
