"""The database refuses what the forms refuse: outcomes, lengths, notes."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from calls.models import CallLog, CallOutcome
from tests.factories import CallLogFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_stored_outcomes_are_snake_case():
    assert CallOutcome.values == ["connected", "no_answer", "busy", "switched_off",
                                  "wrong_number", "call_back_later", "not_interested"]


@pytest.mark.parametrize("values", [
    {"outcome": "picked_up"}, {"duration": -1}, {"duration": 4 * 3600 + 1},
    {"note": "x" * 1001}])
def test_check_constraints_refuse_bad_rows(values):
    lead = LeadFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CallLog.objects.bulk_create([CallLog(lead=lead, user=lead.creator, **{
            "outcome": "busy", **values})])
    assert CallLog.objects.count() == 0


def test_limits_themselves_are_allowed():
    lead = LeadFactory()
    CallLogFactory(lead=lead, duration=0, note="")
    CallLogFactory(lead=lead, duration=4 * 3600, note="x" * 1000)
    assert CallLog.objects.count() == 2


def test_deleting_a_lead_deletes_its_calls():
    call = CallLogFactory()
    call.lead.delete()
    assert CallLog.objects.count() == 0


def test_admin_lists_calls_read_only_for_managers(client, manager):
    call = CallLogFactory(note="Asked for a quote")
    client.force_login(manager)
    changelist = client.get(reverse("admin:calls_calllog_changelist"))
    assert changelist.status_code == 200
    assert "Asked for a quote" in changelist.content.decode()
    assert client.get(reverse("admin:calls_calllog_add")).status_code == 403
    detail = client.post(reverse("admin:calls_calllog_change", args=[call.pk]),
                         {"outcome": "connected"})
    assert detail.status_code == 403
    assert CallLog.objects.get().outcome == "no_answer"


def test_admin_refuses_calls_to_staff_who_are_not_managers(client):
    client.force_login(UserFactory(staff=True))
    assert client.get(reverse("admin:calls_calllog_changelist")).status_code == 403
