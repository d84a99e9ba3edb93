"""Values of hand-written statements read back as the ORM reads them."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.utils import timezone

from crm.raw_sql import copy_field, datetime_reader, write_copy_lines
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_a_datetime_column_reads_as_the_orm_gives_it():
    moment = datetime(2026, 11, 30, 11, 30, 5, tzinfo=UTC)
    lead = LeadFactory(followup_date=moment)
    with connection.cursor() as cursor:
        cursor.execute("SELECT followup_date FROM leads_lead WHERE id = %s", [lead.pk])
        (raw,) = cursor.fetchone()
    value = datetime_reader(connection)(raw)
    assert timezone.is_aware(value) and value == moment
    assert datetime_reader(connection)(None) is None


def test_copy_fields_in_postgresqls_text_format():
    moment = datetime(2026, 11, 30, 11, 30, tzinfo=UTC)
    assert [copy_field(value) for value in (None, 7, moment, moment.date())] == [
        "\\N", "7", "2026-11-30T11:30:00+00:00", "2026-11-30"]
    assert copy_field("a\\b\tc\nd") == "a\\\\b\\tc\\nd"


def test_copy_lines_are_written_in_chunks_and_counted():
    class Copy:
        def __init__(self):
            self.writes = []

        def write(self, text):
            self.writes.append(text)

    copy = Copy()
    assert write_copy_lines(copy, (f"row{n}" for n in range(5)), chunk_rows=2) == 5
    assert copy.writes == ["row0\nrow1\n", "row2\nrow3\n", "row4\n"]
    assert write_copy_lines(copy, iter(()), chunk_rows=2) == 0 and len(copy.writes) == 3
