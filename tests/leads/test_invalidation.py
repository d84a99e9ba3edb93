"""Every write path that changes what a dashboard shows invalidates it on commit."""

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse

from dashboard.cache import TEAM_SCOPE, _version_key, user_scope
from leads.models import FollowupSnapshot, Lead, LeadStatus
from tests.factories import FollowupSnapshotFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def versions(*user_ids):
    """The current version tokens: team first, then each user's."""
    keys = [_version_key(TEAM_SCOPE)] + [_version_key(user_scope(u)) for u in user_ids]
    return [cache.get(key) for key in keys]


@pytest.fixture
def owners(django_capture_on_commit_callbacks):
    a, b = UserFactory(username="alice"), UserFactory(username="bob")
    with django_capture_on_commit_callbacks(execute=True):
        pass
    return a, b


def changed(before, after):
    return [x != y for x, y in zip(before, after)]


def test_lead_create_invalidates_owner_and_team_on_commit(owners, django_capture_on_commit_callbacks):
    a, b = owners
    before = versions(a.pk, b.pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        LeadFactory(creator=a)
        assert versions(a.pk, b.pk) == before  # not before commit
    assert len(callbacks) == 1
    assert changed(before, versions(a.pk, b.pk)) == [True, True, False]


def test_lead_save_changing_owner_invalidates_both(owners, django_capture_on_commit_callbacks):
    a, b = owners
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory(creator=a)
    lead = Lead.objects.get(pk=lead.pk)
    before = versions(a.pk, b.pk)
    with django_capture_on_commit_callbacks(execute=True):
        lead.creator = b
        lead.save()
    assert changed(before, versions(a.pk, b.pk)) == [True, True, True]


def test_rolled_back_write_invalidates_nothing(owners, django_capture_on_commit_callbacks):
    a, b = owners
    before = versions(a.pk, b.pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            LeadFactory(creator=a)
            raise RuntimeError("rollback")
    assert callbacks == []
    assert versions(a.pk, b.pk) == before
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda a, b: Lead.objects.filter(creator=a).update(status="confirmed"), id="update"),
        pytest.param(lambda a, b: Lead.objects.filter(creator=a).delete(), id="queryset-delete"),
        pytest.param(lambda a, b: Lead.objects.filter(creator=a).first().delete(), id="instance-delete"),
        pytest.param(lambda a, b: Lead.objects.bulk_create(
            [Lead(creator=a, customer_name="X", mobile="9000000001")]), id="bulk_create"),
        pytest.param(lambda a, b: Lead.objects.bulk_update(
            [Lead.objects.filter(creator=a).first()], ["remarks"]), id="bulk_update"),
        pytest.param(lambda a, b: a.leads.update(remarks="x"), id="related-manager-update"),
        pytest.param(lambda a, b: FollowupSnapshot.objects.bulk_create(
            [FollowupSnapshot(user=a, date="2026-11-28", initial_count=3)],
            update_conflicts=True, unique_fields=["user", "date"], update_fields=["initial_count"]),
            id="snapshot-upsert"),
        pytest.param(lambda a, b: FollowupSnapshotFactory(user=a), id="snapshot-save"),
        pytest.param(lambda a, b: FollowupSnapshot.objects.filter(user=a).delete(), id="snapshot-delete"),
    ],
)
def test_each_write_path_invalidates_only_its_owner(owners, write, django_capture_on_commit_callbacks):
    a, b = owners
    with django_capture_on_commit_callbacks(execute=True):
        LeadFactory.create_batch(2, creator=a)
        LeadFactory(creator=b)
        FollowupSnapshotFactory(user=a, date="2026-11-27")
    before = versions(a.pk, b.pk)
    with django_capture_on_commit_callbacks(execute=True):
        write(a, b)
    assert changed(before, versions(a.pk, b.pk)) == [True, True, False]


def test_bulk_reassign_invalidates_old_and_new_owner(owners, django_capture_on_commit_callbacks):
    a, b = owners
    with django_capture_on_commit_callbacks(execute=True):
        LeadFactory(creator=a)
    before = versions(a.pk, b.pk)
    with django_capture_on_commit_callbacks(execute=True):
        Lead.objects.filter(creator=a).update(creator=b)
    assert changed(before, versions(a.pk, b.pk)) == [True, True, True]


def test_update_matching_no_rows_invalidates_nothing(owners, django_capture_on_commit_callbacks):
    a, b = owners
    before = versions(a.pk, b.pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        Lead.objects.filter(creator=a).update(status="open")
    assert callbacks == []
    assert versions(a.pk, b.pk) == before


def test_bulk_delete_costs_one_owner_query_and_no_per_row_work(
    owners, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    a, b = owners
    Lead.objects.bulk_create(
        [Lead(creator=a, customer_name=f"C{i}", mobile=f"9{i:09d}") for i in range(300)]
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        # owner lookup + Django's own delete statements; no query per row.
        with django_assert_max_num_queries(8):
            Lead.objects.filter(creator=a).delete()
    assert len(callbacks) == 1


def test_admin_bulk_action_invalidates(owners, client, django_capture_on_commit_callbacks):
    a, b = owners
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory(creator=a)
    client.force_login(UserFactory(superuser=True, username="boss"))
    before = versions(a.pk, b.pk)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:leads_lead_changelist"), {
            "action": "set_status", "_selected_action": [lead.pk], "index": 0,
            "status": LeadStatus.CONFIRMED,
        })
    assert Lead.objects.get().status == "confirmed"
    assert changed(before, versions(a.pk, b.pk)) == [True, True, False]


def test_login_alone_does_not_invalidate(owners, client, django_capture_on_commit_callbacks):
    a, b = owners
    a.set_password("pw")
    with django_capture_on_commit_callbacks(execute=True):
        a.save()
    before = versions(a.pk, b.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.login(username="alice", password="pw")
    assert versions(a.pk, b.pk) == before


def test_queryset_delete_of_a_worked_lead_invalidates_the_worker(
    owners, django_capture_on_commit_callbacks
):
    from tests.factories import WorkedLeadFactory

    a, b = owners
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory(creator=a)
        WorkedLeadFactory(lead=lead, user=b)  # b worked a's lead
    before = versions(a.pk, b.pk)
    with django_capture_on_commit_callbacks(execute=True):
        Lead.objects.filter(pk=lead.pk).delete()
    assert changed(before, versions(a.pk, b.pk)) == [True, True, True]


def test_instance_delete_of_a_worked_lead_invalidates_the_worker(
    owners, django_capture_on_commit_callbacks
):
    from tests.factories import WorkedLeadFactory

    a, b = owners
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory(creator=a)
        WorkedLeadFactory(lead=lead, user=b)
    before = versions(a.pk, b.pk)
    with django_capture_on_commit_callbacks(execute=True):
        Lead.objects.get(pk=lead.pk).delete()
    assert changed(before, versions(a.pk, b.pk)) == [True, True, True]


def test_worked_lead_write_invalidates_the_worker(owners, django_capture_on_commit_callbacks):
    from tests.factories import WorkedLeadFactory

    a, b = owners
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory(creator=a)
    before = versions(a.pk, b.pk)
    with django_capture_on_commit_callbacks(execute=True):
        WorkedLeadFactory(lead=lead, user=b)
    assert changed(before, versions(a.pk, b.pk)) == [True, False, True]
