"""Database upkeep after ``migrate``: the SQLite call-counter triggers.

As leads/db_upkeep.py for the lead table: Django alters most SQLite columns
by rebuilding the table, and dropping ``calls_calllog`` drops the triggers
that keep ``calls_calldaycount`` (calls/counters.py). So after every
``migrate`` (``post_migrate``, connected in calls/apps.py) the triggers are
checked, and if one is missing all are reinstalled and the counters recounted
(calls written meanwhile were not counted). PostgreSQL keeps a table's
triggers through ALTER TABLE: nothing is checked there.
"""

import logging

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction

from calls.counters import CALL_TABLE, COUNT_TABLE, TRIGGER_NAMES
from calls.models import CallDayCount, CallLog

logger = logging.getLogger(__name__)


def _triggers_on_calls(connection):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            [CALL_TABLE],
        )
        return {name for (name,) in cursor.fetchall()}


def ensure_counter_triggers(*, using=DEFAULT_DB_ALIAS):
    """Reinstall the SQLite call-counter triggers on `using` if any is
    missing, and recount. Returns the names that were missing, in a fixed
    order; empty when none was, or when there is nothing to check (not
    SQLite, no call tables, a schema migrated back to before the counters)."""
    connection = connections[using]
    if connection.vendor != "sqlite" or not router.allow_migrate_model(using, CallLog):
        return []
    if not {CALL_TABLE, COUNT_TABLE} <= set(connection.introspection.table_names()):
        return []
    present = _triggers_on_calls(connection)
    missing = [name for name in TRIGGER_NAMES["sqlite"] if name not in present]
    if not missing:
        return []
    # One transaction: a write lands either before (and is recounted) or
    # after (and is counted by the trigger), never in between.
    with transaction.atomic(using=using):
        drift = CallDayCount.objects.db_manager(using).rebuild()
    logger.log(
        logging.WARNING if drift else logging.INFO,
        "Call counter triggers were missing on %r (a migration rebuilt %s?): reinstalled %s "
        "and rebuilt the counters, which had drifted in %d group(s).",
        using, CALL_TABLE, ", ".join(missing), len(drift),
    )
    return missing


def restore_counter_triggers(sender, *, using, **kwargs):
    """The ``post_migrate`` receiver (connected in calls/apps.py)."""
    ensure_counter_triggers(using=using)
