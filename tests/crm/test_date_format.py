"""One date format for people on every page, admin included ("30 Nov 2026,
17:30" in the business time zone); ISO 8601 stays in JSON."""

from datetime import datetime

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import LeadFactory, ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db

FOLLOWUP = datetime(2026, 11, 30, 17, 30)
CREATED = datetime(2026, 11, 2, 9, 5)


@pytest.fixture
def lead():
    tz = timezone.get_current_timezone()
    return LeadFactory(creator=UserFactory(), customer_name="Asha Rao",
                       followup_date=timezone.make_aware(FOLLOWUP, tz),
                       created_at=timezone.make_aware(CREATED, tz))


def _get(user, url, **params):
    client = Client()
    client.force_login(user)
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_lead_list_shows_the_follow_up_and_added_date(lead):
    html = _get(lead.creator, "/leads/")
    assert '<td data-label="Follow-up">30 Nov 2026, 17:30</td>' in html
    assert '<td data-label="Added">2 Nov 2026</td>' in html


def test_dashboard_due_list_and_title(lead):
    html = _get(lead.creator, "/dashboard/", date="2026-11-30")
    assert '<time datetime="2026-11-30T17:30:00+05:30">30 Nov 2026, 17:30</time>' in html
    title = f'<h1 id="dashboard-title">Dashboard · 30 Nov 2026 · {lead.creator.username}</h1>'
    assert title in html


def test_dashboard_json_keeps_iso_8601(lead):
    client = Client()
    client.force_login(lead.creator)
    data = client.get("/dashboard/data.json", {"date": "2026-11-30"}).json()
    assert data["date"] == "2026-11-30"
    assert data["due"]["items"][0]["followup_date"] == "2026-11-30T17:30:00+05:30"


def test_admin_changelist_uses_the_same_format(lead):
    html = _get(ManagerFactory(), "/admin/leads/lead/")
    assert '<td class="field-followup_date nowrap">30 Nov 2026, 17:30</td>' in html
