"""Every write path announces ``leads_changed`` once, on commit, for the
owners it touched (tested without any reader: the dashboard's reaction to the
signal is tested in tests/dashboard/test_receivers.py)."""

import ast
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse

import leads
from leads.models import FollowupSnapshot, Lead, LeadStatus
from leads.signals import announce_leads_changed, leads_changed
from tests.factories import FollowupSnapshotFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced():
    """The announcements sent while the test runs: (owner ids, users_changed)."""
    sent = []

    def record(sender, *, owner_ids, users_changed, **kwargs):
        sent.append((set(owner_ids), users_changed))

    leads_changed.connect(record, dispatch_uid="tests.record_announcements")
    yield sent
    leads_changed.disconnect(dispatch_uid="tests.record_announcements")


def owners_announced(sent):
    return set().union(*(owners for owners, _ in sent)) if sent else set()


@pytest.fixture
def owners(django_capture_on_commit_callbacks, announced):
    a, b = UserFactory(username="alice"), UserFactory(username="bob")
    with django_capture_on_commit_callbacks(execute=True):
        pass
    announced.clear()
    return a, b


def test_lead_create_announces_its_owner_on_commit(
    owners, announced, django_capture_on_commit_callbacks
):
    a, b = owners
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        LeadFactory(creator=a)
        assert announced == []  # not before commit
    assert len(callbacks) == 1
    assert announced == [({a.pk}, False)]


def test_lead_save_changing_owner_announces_both(
    owners, announced, django_capture_on_commit_callbacks
):
    a, b = owners
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory(creator=a)
    lead = Lead.objects.get(pk=lead.pk)
    announced.clear()
    with django_capture_on_commit_callbacks(execute=True):
        lead.creator = b
        lead.save()
    assert announced == [({a.pk, b.pk}, False)]


def test_rolled_back_write_announces_nothing(
    owners, announced, django_capture_on_commit_callbacks
):
    a, b = owners
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        LeadFactory(creator=a)
        raise RuntimeError("rollback")
    assert callbacks == []
    assert announced == []
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda a, b: Lead.objects.filter(creator=a).update(status="confirmed"),
                     id="update"),
        pytest.param(lambda a, b: Lead.objects.filter(creator=a).delete(), id="queryset-delete"),
        pytest.param(lambda a, b: Lead.objects.filter(creator=a).first().delete(),
                     id="instance-delete"),
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
        pytest.param(lambda a, b: FollowupSnapshot.objects.filter(user=a).delete(),
                     id="snapshot-delete"),
    ],
)
def test_each_write_path_announces_only_its_owner(
    owners, write, announced, django_capture_on_commit_callbacks
):
    a, b = owners
    with django_capture_on_commit_callbacks(execute=True):
        LeadFactory.create_batch(2, creator=a)
        LeadFactory(creator=b)
        FollowupSnapshotFactory(user=a, date="2026-11-27")
    announced.clear()
    with django_capture_on_commit_callbacks(execute=True):
        write(a, b)
    assert announced == [({a.pk}, False)]


def test_bulk_reassign_announces_old_and_new_owner(
    owners, announced, django_capture_on_commit_callbacks
):
    a, b = owners
    with django_capture_on_commit_callbacks(execute=True):
        LeadFactory(creator=a)
    announced.clear()
    with django_capture_on_commit_callbacks(execute=True):
        Lead.objects.filter(creator=a).update(creator=b)
    assert announced == [({a.pk, b.pk}, False)]


def test_update_matching_no_rows_announces_nothing(
    owners, announced, django_capture_on_commit_callbacks
):
    a, b = owners
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        Lead.objects.filter(creator=a).update(status="open")
    assert callbacks == []
    assert announced == []


def test_bulk_delete_costs_one_owner_query_and_no_per_row_work(
    owners, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    a, b = owners
    Lead.objects.bulk_create(
        [Lead(creator=a, customer_name=f"C{i}", mobile=f"9{i:09d}") for i in range(300)]
    )
    # owner lookup + the history stamp (leads/history.py) + Django's own
    # delete statements (the owner-change history, the calls, the WhatsApp
    # sends and the intake entries' links among them); no query per row.
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        django_assert_max_num_queries(12),
    ):
        Lead.objects.filter(creator=a).delete()
    assert len(callbacks) == 1


def test_admin_bulk_action_announces(
    owners, client, announced, django_capture_on_commit_callbacks
):
    a, b = owners
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory(creator=a)
    client.force_login(UserFactory(superuser=True, username="boss"))
    announced.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:leads_lead_changelist"), {
            "action": "set_status", "_selected_action": [lead.pk], "index": 0,
            "status": LeadStatus.CONFIRMED,
        })
    assert Lead.objects.get().status == "confirmed"
    assert announced == [({a.pk}, False)]


def test_account_change_announces_the_user_list(
    owners, announced, django_capture_on_commit_callbacks
):
    a, b = owners
    with django_capture_on_commit_callbacks(execute=True):
        a.first_name = "Alice"
        a.save()
    assert announced == [({a.pk}, True)]


def test_login_alone_announces_nothing(
    owners, client, announced, django_capture_on_commit_callbacks
):
    a, b = owners
    a.set_password("pw")
    with django_capture_on_commit_callbacks(execute=True):
        a.save()
    announced.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.login(username="alice", password="pw")
    assert announced == []


def test_queryset_delete_of_a_worked_lead_announces_the_worker(
    owners, announced, django_capture_on_commit_callbacks
):
    from tests.factories import WorkedLeadFactory

    a, b = owners
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory(creator=a)
        WorkedLeadFactory(lead=lead, user=b)  # b worked a's lead
    announced.clear()
    with django_capture_on_commit_callbacks(execute=True):
        Lead.objects.filter(pk=lead.pk).delete()
    assert owners_announced(announced) == {a.pk, b.pk}


def test_instance_delete_of_a_worked_lead_announces_the_worker(
    owners, announced, django_capture_on_commit_callbacks
):
    from tests.factories import WorkedLeadFactory

    a, b = owners
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory(creator=a)
        WorkedLeadFactory(lead=lead, user=b)
    announced.clear()
    with django_capture_on_commit_callbacks(execute=True):
        Lead.objects.get(pk=lead.pk).delete()
    assert owners_announced(announced) == {a.pk, b.pk}


def test_worked_lead_write_announces_the_worker(
    owners, announced, django_capture_on_commit_callbacks
):
    from tests.factories import WorkedLeadFactory

    a, b = owners
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory(creator=a)
    announced.clear()
    with django_capture_on_commit_callbacks(execute=True):
        WorkedLeadFactory(lead=lead, user=b)
    assert announced == [({b.pk}, False)]


def test_a_failing_receiver_drops_neither_the_others_nor_later_callbacks(
    owners, announced, django_capture_on_commit_callbacks, caplog
):
    a, b = owners

    def broken(sender, **kwargs):
        raise RuntimeError("reader down")

    leads_changed.connect(broken, dispatch_uid="tests.broken_receiver")
    later = []
    try:
        with django_capture_on_commit_callbacks(execute=True):
            announce_leads_changed(Lead, owner_ids={a.pk})
            transaction.on_commit(lambda: later.append("ran"))
    finally:
        leads_changed.disconnect(dispatch_uid="tests.broken_receiver")
    assert announced == [({a.pk}, False)]
    assert later == ["ran"]
    assert "reader down" in caplog.text


def _imported_modules(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_leads_never_imports_the_dashboard():
    """The data app announces; its readers listen. Lazy imports inside
    functions count too."""
    root = Path(leads.__file__).parent
    offenders = sorted(
        f"{path.relative_to(root)}: {module}"
        for path in root.rglob("*.py")
        for module in _imported_modules(path)
        if module == "dashboard" or module.startswith("dashboard.")
    )
    assert offenders == []
