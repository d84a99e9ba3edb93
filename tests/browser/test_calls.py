"""Recording a call from a due card on a phone, seen on the card, on the
lead's page and on the manager's dashboard."""

from datetime import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from calls.models import CallLog
from tests.dashboard.conftest import local
from tests.factories import LeadFactory, ManagerFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _minutes_from_now(value):
    shown = timezone.make_aware(datetime.strptime(value, "%Y-%m-%dT%H:%M"))
    return (shown - timezone.now()).total_seconds() / 60


def test_a_tap_on_an_outcome_records_the_call_on_a_phone(page, live_server, login, logout,
                                                          js_errors):
    today = timezone.localdate()
    asha = UserFactory(username="asha")
    lead = LeadFactory(creator=asha, customer_name="Meera Nair", followup_date=local(today, 0, 1))
    manager = ManagerFactory(username="meera")

    page.set_viewport_size(PHONE)
    login(asha)
    card = page.locator(f'tr[data-lead="{lead.pk}"]')
    expect(card.locator(".call-attempts")).to_have_count(0)
    card.get_by_text("No answer", exact=True).click()
    # The proposal: the next call in 2 hours (the follow-up was in the past).
    field = card.get_by_label("Next follow-up")
    assert 2 * 60 - 2 <= _minutes_from_now(field.input_value()) <= 2 * 60
    assert CallLog.objects.count() == 0  # a tap alone records nothing
    # Kept within today, so the card stays on today's list to show its line.
    field.fill(f"{today.isoformat()}T23:58")
    card.get_by_label("Remark", exact=True).fill("Rang out")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    card.get_by_role("button", name="Save").click()

    expect(page.locator("#messages")).to_contain_text("Updated Meera Nair: No answer call recorded")
    expect(card.locator(".call-attempts")).to_have_text(
        f"1st try · last: No answer, {timezone.localtime(CallLog.objects.get().called_at):%H:%M}")
    assert list(CallLog.objects.values_list("outcome", "note", "user")) == [
        ("no_answer", "Rang out", asha.pk)]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The lead's page (the card's name links to it): the call on its timeline.
    card.get_by_role("link", name="Meera Nair", exact=True).click()
    page.wait_for_url(f"**/leads/{lead.pk}/")
    call = page.locator(".timeline .event", has_text="Call: No answer")
    expect(call).to_have_count(1)
    expect(call).to_contain_text("Rang out")
    expect(call).to_contain_text("asha")
    logout()

    login(manager)
    expect(page.locator("#calls-attempts")).to_have_text("1")
    expect(page.locator("#calls-connected")).to_have_text("0")
    expect(page.locator(f'table.team tr[data-user="{asha.pk}"] td:nth-child(11)')).to_have_text("1")
    assert js_errors == []


def test_not_interested_proposes_lost_and_undoes_it(page, live_server, login, js_errors):
    asha = UserFactory(username="asha")
    lead = LeadFactory(creator=asha, followup_date=local(timezone.localdate(), 0, 1))
    login(asha)
    card = page.locator(f'tr[data-lead="{lead.pk}"]')
    status = card.get_by_label("Status", exact=True)
    card.get_by_text("Not interested", exact=True).click()
    expect(status).to_have_value("lost")
    expect(card.get_by_label("Remark", exact=True)).to_be_focused()
    card.get_by_text("Wrong number", exact=True).click()
    expect(card.get_by_label("Remark", exact=True)).to_have_value("Wrong number")
    card.get_by_text("Connected", exact=True).click()
    expect(status).to_have_value("needs_followup")
    assert js_errors == []
