"""After migrate, the SQLite call-counter triggers are there: a migration that
rebuilds calls_calllog drops them, and the post_migrate upkeep puts them back
and recounts."""

import logging

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection

from calls.counters import sqlite_trigger_sql
from calls.db_upkeep import ensure_counter_triggers
from calls.models import CallDayCount
from leads.counters import business_zone
from tests.factories import CallLogFactory

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite table rebuild")


def _sqlite_triggers():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                       "AND tbl_name = 'calls_calllog'")
        return {name: " ".join(sql.split()) for name, sql in cursor.fetchall()}


@sqlite_only
@pytest.mark.django_db
def test_a_migrated_database_has_the_triggers_counters_py_keeps():
    assert _sqlite_triggers() == {
        name: " ".join(sql.split()) for name, sql in sqlite_trigger_sql(business_zone()).items()}
    assert ensure_counter_triggers() == []


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_post_migrate_reinstalls_a_dropped_trigger_and_recounts(caplog):
    caplog.set_level(logging.WARNING, logger="calls.db_upkeep")
    kept = CallLogFactory(outcome="connected")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER calls_calllog_count_insert")
    uncounted = CallLogFactory(lead=kept.lead, outcome="busy")
    assert len(CallDayCount.objects.verify()) == 1

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert sorted(_sqlite_triggers()) == sorted(sqlite_trigger_sql(business_zone()))
    assert CallDayCount.objects.verify() == []
    assert CallDayCount.objects.get().attempts == 2
    assert [r.getMessage() for r in caplog.records if r.name == "calls.db_upkeep"] == [
        "Call counter triggers were missing on 'default' (a migration rebuilt calls_calllog?): "
        "reinstalled calls_calllog_count_insert and rebuilt the counters, which had drifted "
        "in 1 group(s)."]
    CallLogFactory(lead=uncounted.lead, outcome="busy")  # counted again
    assert CallDayCount.objects.get().attempts == 3
