"""Values of hand-written statements read back as the ORM reads them."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.utils import timezone

from crm.raw_sql import datetime_reader
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
