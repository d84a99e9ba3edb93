"""After migrate, the lead-counter triggers are there: a migration that
rebuilds leads_lead on SQLite (most AlterFields do) drops them, and the
post_migrate upkeep puts them back and recounts."""

import logging
from contextlib import contextmanager

import pytest
from django.apps import apps
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection, migrations, models
from django.db.migrations.state import ProjectState

from leads.db_upkeep import (
    SQLITE_HISTORY_TRIGGERS,
    ensure_counter_triggers,
    ensure_history_triggers,
    sqlite_counter_triggers,
)
from leads.models import Lead, LeadCountDelta, LeadDayDelta, LeadStatus
from tests.factories import LeadFactory, UserFactory
from tests.leads.test_counters import counted_by_query

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite table rebuild")
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL catalogue"
)

# Widening a column: on SQLite, Django rebuilds the table for it.
WIDEN_CUSTOMER_NAME = migrations.AlterField(
    model_name="lead", name="customer_name", field=models.CharField(max_length=120),
)


def _sqlite_triggers(prefix=("leads_lead_count_", "leads_lead_day_")):
    """{name: SQL with whitespace collapsed} of the triggers on leads_lead
    whose name starts with `prefix` (a string or a tuple; the counters' by
    default)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            ["leads_lead"],
        )
        return {name: " ".join(sql.split()) for name, sql in cursor.fetchall()
                if name.startswith(prefix)}


def _postgresql_triggers():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger "
            "WHERE tgrelid = 'leads_lead'::regclass AND NOT tgisinternal ORDER BY tgname"
        )
        return [name for (name,) in cursor.fetchall()]


def _upkeep_messages(caplog):
    return [r.getMessage() for r in _upkeep_records(caplog)]


@contextmanager
def _widened_customer_name():
    """Apply WIDEN_CUSTOMER_NAME as a migration would, and undo it on leaving."""
    before = ProjectState.from_apps(apps)
    after = before.clone()
    WIDEN_CUSTOMER_NAME.state_forwards("leads", after)
    with connection.schema_editor() as editor:
        WIDEN_CUSTOMER_NAME.database_forwards("leads", editor, before, after)
    try:
        yield
    finally:
        with connection.schema_editor() as editor:
            WIDEN_CUSTOMER_NAME.database_backwards("leads", editor, after, before)
        ensure_counter_triggers()  # the undo rebuilt the table again


def _upkeep_records(caplog):
    return [r for r in caplog.records if r.name == "leads.db_upkeep"]


@sqlite_only
@pytest.mark.django_db
def test_upkeep_installs_the_triggers_a_migrated_database_has():
    expected = {name: " ".join(sql.split()) for name, sql in sqlite_counter_triggers().items()}

    assert _sqlite_triggers() == expected


@sqlite_only
@pytest.mark.django_db
def test_upkeep_installs_the_history_triggers_a_migrated_database_has():
    expected = {name: " ".join(sql.split()) for name, sql in SQLITE_HISTORY_TRIGGERS.items()}

    assert _sqlite_triggers("leads_lead_history_") == expected
    assert ensure_history_triggers() == []


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_post_migrate_reinstalls_the_triggers_a_table_rebuild_dropped(caplog):
    caplog.set_level(logging.WARNING, logger="leads.db_upkeep")
    owner = UserFactory()
    kept = LeadFactory(creator=owner, status=LeadStatus.OPEN)
    with _widened_customer_name():
        assert _sqlite_triggers() == {}
        # Uncounted while the triggers are gone: open, confirmed and
        # completed all drift.
        LeadFactory(creator=owner, status=LeadStatus.COMPLETED)
        Lead.objects.filter(pk=kept.pk).update(status=LeadStatus.CONFIRMED)
        assert len(LeadCountDelta.objects.verify()) == 3
        # The day counters: the new lead's follow-up and created buckets.
        assert len(LeadDayDelta.objects.verify()) == 2

        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

        assert sorted(_sqlite_triggers()) == sorted(sqlite_counter_triggers())
        assert LeadCountDelta.objects.verify() == []
        assert LeadDayDelta.objects.verify() == []
        assert LeadCountDelta.objects.totals() == counted_by_query()
        assert sorted(_sqlite_triggers("leads_lead_history_")) == sorted(SQLITE_HISTORY_TRIGGERS)
        assert {record.levelno for record in _upkeep_records(caplog)} == {logging.WARNING}
        assert _upkeep_messages(caplog) == [
            "Lead counter triggers were missing on 'default' (a migration rebuilt "
            "leads_lead?): reinstalled leads_lead_count_insert, leads_lead_count_update, "
            "leads_lead_count_delete, leads_lead_day_insert, leads_lead_day_followup_update, "
            "leads_lead_day_created_update, leads_lead_day_delete and rebuilt the counters, "
            "which had drifted in 5 group(s).",
            "Lead history triggers were missing on 'default' (a migration rebuilt "
            "leads_lead?): reinstalled leads_lead_history_insert, leads_lead_history_update, "
            "leads_lead_history_delete; lead changes made while they were missing are not "
            "in the history.",
        ]
        # Counting again from here on.
        LeadFactory(creator=owner, status=LeadStatus.OPEN, followup_date=None)
        assert LeadCountDelta.objects.totals() == counted_by_query()
        assert LeadDayDelta.objects.verify() == []


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_rebuild_with_no_lead_written_meanwhile_is_only_noted(caplog):
    """A fresh database: later migrations rebuilt the table before any lead
    existed, nothing drifted, so `make run`'s first migrate shows no warning."""
    caplog.set_level(logging.INFO, logger="leads.db_upkeep")
    with _widened_customer_name():
        caplog.clear()
        assert ensure_counter_triggers() != []
        assert {record.levelno for record in _upkeep_records(caplog)} == {logging.INFO}
        assert "drifted in 0 group(s)" in _upkeep_messages(caplog)[0]


@pytest.mark.django_db
def test_upkeep_does_nothing_when_the_triggers_are_there(caplog):
    caplog.set_level(logging.WARNING, logger="leads.db_upkeep")
    owner = UserFactory()
    LeadFactory.create_batch(2, creator=owner)
    rows_before = LeadCountDelta.objects.count()

    assert ensure_counter_triggers() == []

    # A rebuild would have folded the two +1 rows into one.
    assert LeadCountDelta.objects.count() == rows_before == 2
    assert _upkeep_records(caplog) == []


@postgresql_only
@pytest.mark.django_db
def test_postgresql_keeps_the_triggers_through_the_same_migration():
    before = _postgresql_triggers()
    with _widened_customer_name():
        assert _postgresql_triggers() == before
    assert before == [
        "leads_lead_count_delete", "leads_lead_count_insert",
        "leads_lead_count_truncate", "leads_lead_count_update",
        "leads_lead_day_delete", "leads_lead_day_insert",
        "leads_lead_day_truncate", "leads_lead_day_update",
        "leads_lead_history_delete", "leads_lead_history_insert", "leads_lead_history_update",
    ]
