"""After a quick update the page comes back where the user was: the
redirect carries the card to show (`#lead-<id>`), without JavaScript too."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.templatetags.leads_tags import after_save_anchors
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _quick(lead):
    return reverse("leads:quick_update", args=[lead.pk])


def _later():
    return (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")


def test_saved_quick_update_comes_back_at_the_next_card(client, telecaller):
    client.force_login(telecaller)
    lead = LeadFactory(creator=telecaller)
    response = client.post(_quick(lead), {
        "status": "confirmed", "followup_date": _later(), "next": "/dashboard/?page=2",
        "anchor": "lead-4242"})
    assert (response.status_code, response["Location"]) == (302, "/dashboard/?page=2#lead-4242")


def test_refused_quick_update_keeps_the_place_both_ways(client, telecaller):
    client.force_login(telecaller)
    lead = LeadFactory(creator=telecaller)
    response = client.post(_quick(lead), {
        "status": "confirmed", "followup_date": "soon", "next": "/dashboard/",
        "anchor": "lead-4242"})
    # The form again (nothing saved): saved from there, the next card; back
    # without saving, this lead's own card.
    assert response.status_code == 400
    page = response.content.decode()
    assert '<input type="hidden" name="anchor" value="lead-4242">' in page
    assert f'<a href="/dashboard/#lead-{lead.pk}">Back without saving</a>' in page


@pytest.mark.parametrize("anchor", ["", "x" * 65, "1abc", "lead-1#x", '"><script>', "a b"])
def test_quick_update_without_a_usable_anchor_comes_back_to_the_top(client, telecaller, anchor):
    client.force_login(telecaller)
    lead = LeadFactory(creator=telecaller)
    response = client.post(_quick(lead), {
        "status": "confirmed", "followup_date": _later(), "next": "/leads/?due=today#old",
        "anchor": anchor})
    assert response["Location"] == "/leads/?due=today"


def test_after_save_anchors_point_at_the_next_card_or_the_one_before():
    assert after_save_anchors([7, 3, 9], alone="due-heading") == ["lead-3", "lead-9", "lead-3"]
    assert after_save_anchors([7], alone="due-heading") == ["due-heading"]
    assert after_save_anchors([]) == []


def test_dashboard_cards_carry_their_ids_and_the_next_cards_anchor(client, telecaller):
    client.force_login(telecaller)
    now = timezone.localtime()
    today = now.replace(hour=23, minute=0, second=0, microsecond=0)
    leads = [LeadFactory(creator=telecaller, followup_date=today - timedelta(minutes=m))
             for m in (30, 20, 10)]
    html = client.get(reverse("dashboard:index")).content.decode()
    ids = re.findall(r'<tr class="due-card" id="lead-(\d+)"', html)
    assert ids == [str(lead.pk) for lead in leads]
    anchors = re.findall(r'name="anchor" value="([^"]+)"', html)
    assert anchors == [f"lead-{leads[1].pk}", f"lead-{leads[2].pk}", f"lead-{leads[1].pk}"]


def test_queue_rows_carry_their_ids_and_the_next_rows_anchor(client, telecaller):
    client.force_login(telecaller)
    past = timezone.now() - timedelta(days=3)
    leads = [LeadFactory(creator=telecaller, followup_date=past + timedelta(hours=h))
             for h in (1, 2)]
    html = client.get(reverse("leads:list"), {"due": "overdue"}).content.decode()
    assert re.findall(r'<tr id="lead-(\d+)"', html) == [str(lead.pk) for lead in leads]
    assert re.findall(r'name="anchor" value="([^"]+)"', html) == [
        f"lead-{leads[1].pk}", f"lead-{leads[0].pk}"]
