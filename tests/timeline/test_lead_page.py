"""The lead page /leads/<id>/: fields, then one timeline of every kind of
event, newest first, paginated; others' leads are a 404."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calls.models import CallLog
from intake.models import IntakeEntry
from intake.services import create_leads_from_entries
from leads import history, services
from leads.models import Lead, LeadChange, OwnerChangeRule, WorkedLead, WorkKind
from leads.ownership import owner_changes_record
from tests.factories import LeadFactory, UserFactory
from timeline.selectors import lead_timeline
from timeline.sources import SOURCES, NewestRows
from whatsapp.models import WhatsAppSend, WhatsAppTemplate

pytestmark = pytest.mark.django_db


def _page(lead, **query):
    return reverse("timeline:lead", args=[lead.pk]) + (
        "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_timeline_shows_every_kind_newest_first_with_who(client):
    owner = UserFactory(username="asha")
    client.force_login(owner)
    with history.acting_as(owner, via=history.VIA_PAGE):
        lead = services.lead_create(creator=owner, customer_name="Ravi", mobile="9829012345")
        lead = services.lead_quick_update(
            lead=lead, user=owner, status="confirmed",
            followup_date=timezone.now() + timedelta(days=2), remark="Coming Monday")
        services.lead_update(lead=lead, user=owner, changes={"customer_name": "Ravi Kumar"})
    template = WhatsAppTemplate.objects.create(name="Booking", text="Hi {customer_name}")
    client.post(reverse("whatsapp:picker", args=[lead.pk]), {"template": template.pk})

    response = client.get(_page(lead))
    assert response.status_code == 200
    events = response.context["events"]
    assert [(e.kind, e.title, e.actor) for e in events] == [
        ("whatsapp", "WhatsApp sent: Booking", "asha"),
        ("correction", "Name corrected: Ravi → Ravi Kumar", "asha"),
        # One save, one moment: the lead's changes, then the work log's.
        ("remark", "Remark", "asha"),
        ("status", "Status: Needs Followup → Confirmed", "asha"),
        ("followup", events[4].title, "asha"),
        ("created", "Lead created", "asha"),
    ]
    assert events[4].title.startswith("Follow-up moved: none → ")
    assert events[2].detail.endswith(" asha: Coming Monday")
    assert events[0].detail == "Hi Ravi Kumar"
    html = response.content.decode()
    when = timezone.localtime(events[0].at)
    assert f">{when:%-d %b %Y, %H:%M}</time> · asha</p>" in html
    assert "Ravi Kumar" in html and "9829012345" in html


def test_admin_edits_imports_and_outside_writes_are_labelled(client, manager):
    lead = LeadFactory(status="open")
    with history.acting_as(manager, via=history.VIA_ADMIN):
        Lead.objects.filter(pk=lead.pk).update(status="confirmed")
    with history.acting_as(manager, via=history.VIA_IMPORT):
        imported = Lead.objects.bulk_create([Lead(creator=lead.creator, customer_name="I",
                                                  mobile="9829000001")])[0]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE leads_lead SET status = 'lost' WHERE id = %s", [lead.pk])
    client.force_login(manager)
    events = client.get(_page(lead)).context["events"]
    assert [(e.title, e.actor, e.via) for e in events[:2]] == [
        ("Status: Confirmed → Lost", "outside the product", ""),
        ("Status: Open → Confirmed", manager.username, "in admin"),
    ]
    (created,) = client.get(_page(imported)).context["events"]
    assert (created.title, created.actor, created.via) == ("Lead imported", manager.username,
                                                           "import")


def test_others_leads_are_404_in_the_layout(client):
    lead = LeadFactory()
    client.force_login(UserFactory())
    response = client.get(_page(lead))
    assert response.status_code == 404
    assert "This lead does not exist or is not yours." in response.content.decode()


def test_a_manager_sees_anyones_lead(client, manager):
    lead = LeadFactory()
    client.force_login(manager)
    assert client.get(_page(lead)).status_code == 200


# Not named `page`: pytest-playwright would take it for its browser page.
@pytest.mark.parametrize(("page_number", "error"), [
    ("x", "The page must be a whole number."),
    ("0", "Pages start at 1."),
    ("1001", "The history shows at most 1,000 pages."),
])
def test_a_bad_page_says_so(client, page_number, error):
    owner = UserFactory()
    lead = LeadFactory(creator=owner)
    client.force_login(owner)
    response = client.get(_page(lead, page=page_number))
    assert response.status_code == 400
    assert error in response.content.decode()


def _thousand_events(lead):
    """1,000 events of three kinds on `lead`, in bulk."""
    now = timezone.now()
    LeadChange.objects.bulk_create([
        LeadChange(lead_id=lead.pk, kind="changed", field="status", old_value="open",
                   new_value="confirmed", actor=lead.creator, via="page",
                   changed_at=now - timedelta(minutes=3 * i))
        for i in range(400)])
    WorkedLead.objects.bulk_create([
        WorkedLead(lead=lead, user=lead.creator, kind=WorkKind.MOVED, work_date=now.date(),
                   worked_at=now - timedelta(minutes=3 * i + 1)) for i in range(300)])
    WhatsAppSend.objects.bulk_create([
        WhatsAppSend(lead=lead, user=lead.creator, template_name="T", text="x",
                     sent_at=now - timedelta(minutes=3 * i + 2)) for i in range(300)])


def test_the_first_page_of_1000_events_is_one_query_per_kind(django_assert_num_queries):
    lead = LeadFactory()
    _thousand_events(lead)
    with django_assert_num_queries(len(SOURCES)):
        events, has_next = lead_timeline(lead, page=1)
    assert (len(events), has_next) == (50, True)
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
    # The lead's creation came just before the bulk events' "now".
    assert [e.kind for e in events[:5]] == ["status", "created", "followup", "whatsapp", "status"]


def test_pages_follow_on_without_gaps_or_repeats():
    lead = LeadFactory()
    _thousand_events(lead)
    seen = []
    for page in range(1, 22):
        events, has_next = lead_timeline(lead, page=page)
        seen += [(e.kind, e.tie) for e in events]
        if not has_next:
            break
    # 1,000 bulk events and the lead's creation.
    assert (page, len(seen), len(set(seen))) == (21, 1001, 1001)


def test_the_lead_page_of_1000_events_has_a_fixed_statement_budget(
    client, django_assert_max_num_queries
):
    owner = UserFactory()
    lead = LeadFactory(creator=owner)
    _thousand_events(lead)
    client.force_login(owner)
    client.get(_page(lead))
    # Session, user, the lead, one query per kind.
    with CaptureQueriesContext(connection) as captured:
        response = client.get(_page(lead, page=2))
    assert response.status_code == 200
    assert len(captured) <= 3 + len(SOURCES), [q["sql"] for q in captured]


def test_the_lead_list_and_due_card_link_to_the_lead_page(client):
    owner = UserFactory()
    lead = LeadFactory(creator=owner, followup_date=timezone.now())
    client.force_login(owner)
    link = f'href="/leads/{lead.pk}/"'
    assert link in client.get(reverse("leads:list")).content.decode()
    assert link in client.get(reverse("dashboard:index")).content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner")
def test_each_kind_is_read_through_an_index_on_postgresql():
    lead = LeadFactory()
    _thousand_events(lead)
    plans = []
    with CaptureQueriesContext(connection) as captured:
        lead_timeline(lead, page=1)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in captured:
            cursor.execute("EXPLAIN " + query["sql"])
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    assert len(plans) == len(SOURCES)
    for plan, index in zip(plans, ["leadchange_lead_time_idx", "leads_workedlead_lead_id",
                                   "whatsappsend_lead_time_idx", "call_lead_called_idx",
                                   "owner_change_lead_idx"], strict=True):
        assert index in plan, plan


def test_the_timeline_escapes_what_people_typed(client):
    owner = UserFactory(username="asha")
    lead = LeadFactory(creator=owner, customer_name="<b>Ravi</b>")
    services.lead_quick_update(lead=lead, user=owner, status="open", followup_date=None,
                               remark='<script>alert("x")</script>')
    client.force_login(owner)
    html = client.get(_page(lead)).content.decode()
    assert "<script>alert" not in html and "<b>Ravi</b>" not in html
    assert "asha: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>" in html
    assert "&lt;b&gt;Ravi&lt;/b&gt; (" in html


def test_calls_and_owner_changes_are_on_the_timeline(client, manager):
    owner, colleague = UserFactory(username="asha"), UserFactory(username="ravi")
    lead = LeadFactory(creator=owner, status="open")
    CallLog.objects.create(lead=lead, user=owner, outcome="no_answer", note="Rang twice",
                           duration=75)
    owner_changes_record([(lead.pk, owner.pk, colleague.pk)], rule=OwnerChangeRule.HAND_OVER,
                         changed_by=manager, at=timezone.now())
    client.force_login(manager)
    events = client.get(_page(lead)).context["events"]
    assert [(e.kind, e.title, e.actor) for e in events[:2]] == [
        ("owner", "Owner: ravi (from asha)", manager.username),
        ("call", "Call: No answer · 1 min 15 s", "asha"),
    ]
    assert (events[0].detail, events[1].detail) == ("Rule: Hand-over", "Rang twice")


def test_leads_made_from_the_intake_queue_are_recorded_with_who(client, manager):
    owner = UserFactory(username="asha")
    entries = [IntakeEntry.objects.create(customer_name="Queued", mobile="9829000077",
                                          source="website")]
    with history.acting_as(manager, via=history.VIA_PAGE):
        (lead,) = create_leads_from_entries(entries, {entries[0].pk: owner}, by_user=manager,
                                            rule="round-robin")
    (imported,) = create_leads_from_entries(
        [IntakeEntry.objects.create(customer_name="Filed", mobile="9829000078", source="csv")],
        {IntakeEntry.objects.get(mobile="9829000078").pk: owner}, rule="import")
    client.force_login(manager)
    created = [e for e in client.get(_page(lead)).context["events"] if e.kind == "created"]
    assert [(e.title, e.actor) for e in created] == [("Lead created", manager.username)]
    created = [e for e in client.get(_page(imported)).context["events"] if e.kind == "created"]
    assert [(e.title, e.actor, e.via) for e in created] == [
        ("Lead imported", "the command line", "import")]


def test_a_source_statement_compiled_once_serves_every_lead(django_assert_num_queries):
    first, second = LeadFactory(), LeadFactory()
    changes = NewestRows(LeadChange, lambda lead_id: (
        LeadChange.objects.filter(lead_id=lead_id).order_by("-changed_at", "-id")
        .values_list("changed_at", "lead_id")))
    for lead in (first, second, first):
        with django_assert_num_queries(1):
            rows = changes(lead.pk, limit=5)
        assert rows and {lead_id for _, lead_id in rows} == {lead.pk}
        assert all(timezone.is_aware(at) for at, _ in rows)  # datetimes, on SQLite too
    assert changes.compiled.cache_info().misses == 1


def test_a_source_must_take_the_lead_id_once():
    twice = NewestRows(LeadChange, lambda lead_id: LeadChange.objects.filter(
        lead_id=lead_id, actor_id=lead_id).values_list("id"))
    with pytest.raises(ValueError, match="one parameter"):
        twice(1, limit=5)
