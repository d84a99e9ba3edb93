from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from calls.models import CallLog
from calls.services import call_record_with_update
from leads.models import LeadStatus
from leads.signals import announce_leads_changed, batched_announcements, leads_changed
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_call_and_the_update_are_written_together(telecaller):
    lead = LeadFactory(creator=telecaller, remarks="")
    later = timezone.now() + timedelta(hours=2)
    updated, call = call_record_with_update(
        lead=lead, user=telecaller, outcome="no_answer", duration=12,
        status=LeadStatus.DID_NOT_PICK_UP, followup_date=later, remark="Rang out")
    assert (updated.status, updated.followup_date) == ("did_not_pick_up", later)
    assert CallLog.objects.get() == call
    assert (call.note, call.duration, call.lead_id) == ("Rang out", 12, lead.pk)


def test_a_separate_note_is_kept_apart_from_the_remark(telecaller):
    lead = LeadFactory(creator=telecaller, remarks="")
    _, call = call_record_with_update(
        lead=lead, user=telecaller, outcome="connected", note="Spoke to his wife",
        status=lead.status, followup_date=lead.followup_date, remark="")
    assert (call.note, lead.remarks) == ("Spoke to his wife", "")


def test_an_invalid_call_rolls_the_update_back(telecaller):
    lead = LeadFactory(creator=telecaller, remarks="")
    with pytest.raises(ValidationError):
        call_record_with_update(
            lead=lead, user=telecaller, outcome="connected", duration=-5,
            status=LeadStatus.CONFIRMED, followup_date=lead.followup_date, remark="ok")
    lead.refresh_from_db()
    assert (lead.status, lead.remarks, CallLog.objects.count()) == ("needs_followup", "", 0)


def test_batched_announcements_send_one_union_per_block(django_capture_on_commit_callbacks):
    a, b = UserFactory(), UserFactory()
    seen = []

    def record(sender, *, owner_ids, users_changed=False, **kwargs):
        seen.append((sender, set(owner_ids), users_changed))

    leads_changed.connect(record, dispatch_uid="tests.calls.batch")
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with batched_announcements():
                announce_leads_changed("first", owner_ids={a.pk})
                with batched_announcements():  # joins the outer block
                    announce_leads_changed("second", owner_ids={b.pk}, users_changed=True)
            assert seen == []  # on commit, not before
        with (django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError),
              batched_announcements()):
            announce_leads_changed("third", owner_ids={a.pk})
            raise RuntimeError("the write failed")
    finally:
        leads_changed.disconnect(dispatch_uid="tests.calls.batch")
    assert len(callbacks) == 1
    assert seen == [("first", {a.pk, b.pk}, True)]
