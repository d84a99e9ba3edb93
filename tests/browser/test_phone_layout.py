"""The telecaller's dashboard on a 390 px phone: the due list on the first
screen, one card per lead with large Call and WhatsApp buttons and the status
once, and after a quick update the next card in view (with and without
JavaScript)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.dashboard.conftest import local
from tests.factories import LeadFactory, ManagerFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TEMPLATE_SYNTAX = re.compile(r"\{#|#\}|\{%|%\}|\{\{|\}\}")


@pytest.fixture
def day_of_calls():
    """asha has ten follow-ups due today, at 08:00, 08:10, ... (all not closed)."""
    today = timezone.localdate()
    asha = UserFactory(username="asha")
    leads = [LeadFactory(creator=asha, customer_name=f"Customer {n:02d}",
                         car_registration=f"RJ14AB{1000 + n}", status="needs_followup",
                         followup_date=local(today, 8) + timedelta(minutes=10 * n))
             for n in range(10)]
    return asha, leads, ManagerFactory(username="meera")


def _card(page, lead):
    return page.locator(f"#lead-{lead.pk}")


def _in_viewport(page, locator):
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] < page.viewport_size["height"]


def test_phone_dashboard_starts_with_the_due_cards(page, live_server, login, day_of_calls,
                                                   js_errors):
    asha, leads, _ = day_of_calls
    page.set_viewport_size(PHONE)
    login(asha)
    cards = page.locator("tr.due-card")
    expect(cards).to_have_count(10)
    first = cards.first
    assert first.bounding_box()["y"] < PHONE["height"]  # on the first screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for lead in leads[:3]:
        card = _card(page, lead)
        card.scroll_into_view_if_needed()
        text = card.inner_text()
        for shown in (lead.customer_name, lead.mobile, lead.car_registration):
            assert shown in text
        assert re.search(r"\d{1,2} \w{3} \d{4}, \d{2}:\d{2}", text)  # the follow-up time
        call = card.get_by_role("link", name=f"Call {lead.customer_name}")
        whatsapp = card.get_by_role("link", name=f"WhatsApp {lead.customer_name}")
        expect(call).to_have_attribute("href", f"tel:+91{lead.mobile}")
        # The template picker (it records the send, then opens wa.me).
        expect(whatsapp).to_have_attribute("href", f"/leads/{lead.pk}/whatsapp/")
        for button in (call, whatsapp):
            box = button.bounding_box()
            assert box["height"] >= 44 and box["width"] >= 120
        # The status once: the quick update's select, no second badge.
        expect(card.get_by_label("Status", exact=True)).to_have_count(1)
        expect(card.get_by_label("Status", exact=True)).to_have_value("needs_followup")
        expect(card.locator(".status")).to_have_count(0)
        card_box = card.bounding_box()
        for field in (card.get_by_label("Status", exact=True), card.get_by_label("Remark"),
                      card.get_by_role("button", name="Save", exact=True)):
            box = field.bounding_box()
            assert card_box["x"] < box["x"] and box["x"] + box["width"] < (
                card_box["x"] + card_box["width"])
        # A telecaller's own list names no owner.
        expect(card.locator(".due-owner")).to_have_count(0)
        assert "asha" not in text
    assert not TEMPLATE_SYNTAX.search(page.locator("body").inner_text())
    assert js_errors == []


def test_phone_team_view_names_the_owner(page, live_server, login, day_of_calls, js_errors):
    asha, leads, manager = day_of_calls
    page.set_viewport_size(PHONE)
    login(manager)
    owner = _card(page, leads[0]).locator(".due-owner")
    expect(owner).to_have_text("asha")
    expect(owner).to_be_visible()
    page.goto(f"{live_server.url}/dashboard/?user={asha.pk}")
    expect(_card(page, leads[0]).locator(".due-owner")).to_have_count(0)
    assert js_errors == []


def _save_eighth_card(page, leads):
    eighth = _card(page, leads[7])
    eighth.scroll_into_view_if_needed()
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    eighth.get_by_label("Next follow-up").fill(f"{tomorrow}T10:00")
    eighth.get_by_role("button", name="Save", exact=True).click()


def test_after_saving_the_eighth_card_the_ninth_is_in_view(page, live_server, login,
                                                           day_of_calls, js_errors):
    asha, leads, _ = day_of_calls
    page.set_viewport_size(PHONE)
    login(asha)
    _save_eighth_card(page, leads)
    expect(page.locator("#messages")).to_contain_text("Updated Customer 07")
    expect(page.locator("tr.due-card")).to_have_count(9)  # the 8th moved to tomorrow
    ninth = _card(page, leads[8])
    expect(ninth).to_be_in_viewport()
    assert _in_viewport(page, ninth)
    assert page.evaluate("window.scrollY") > PHONE["height"]  # not back at the top
    expect(page.locator("#messages")).to_be_in_viewport()  # the confirmation stays in view
    assert js_errors == []


def test_after_saving_the_eighth_card_without_javascript_the_ninth_is_in_view(
    browser, live_server, login, day_of_calls
):
    asha, leads, _ = day_of_calls
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    try:
        login(asha, on=page)
        _save_eighth_card(page, leads)
        page.wait_for_url(re.compile(rf"/dashboard/#lead-{leads[8].pk}$"))
        expect(page.locator("#messages")).to_contain_text("Updated Customer 07")
        ninth = _card(page, leads[8])
        expect(ninth).to_be_in_viewport()
        assert _in_viewport(page, ninth)
        assert page.evaluate("window.scrollY") > PHONE["height"]
    finally:
        context.close()


def test_a_refused_save_keeps_the_input_and_goes_back_to_its_card(
    page, live_server, login, day_of_calls, js_errors
):
    asha, leads, _ = day_of_calls
    page.set_viewport_size(PHONE)
    login(asha)
    eighth = _card(page, leads[7])
    eighth.scroll_into_view_if_needed()
    eighth.get_by_label("Status", exact=True).select_option(label="Lost")  # needs a reason
    eighth.get_by_role("button", name="Save", exact=True).click()
    # The form again, as typed, with why nothing was saved (a 400 page).
    expect(page.locator("#messages")).to_contain_text("Customer 07 not updated")
    expect(page.locator("#messages")).to_be_in_viewport()
    expect(page.get_by_label("Status", exact=True)).to_have_value("lost")
    page.get_by_role("link", name="Back without saving").click()
    page.wait_for_url(re.compile(rf"/dashboard/#lead-{leads[7].pk}$"))
    expect(_card(page, leads[7])).to_be_in_viewport()
    # The browser logs the refused page's own 400; nothing else may fail.
    assert [error for error in js_errors if "status of 400" not in error] == []
    js_errors.clear()


def test_phone_queue_rows_fit_the_screen(page, live_server, login, day_of_calls, js_errors):
    asha, leads, _ = day_of_calls
    page.set_viewport_size(PHONE)
    login(asha)
    page.goto(f"{live_server.url}/leads/?due=today")
    row = page.locator(f"#lead-{leads[0].pk}")
    status = row.get_by_label("Status", exact=True)
    remark = row.get_by_label("Remark", exact=True)
    for field in (status, remark, row.get_by_role("button", name="Save", exact=True)):
        field.scroll_into_view_if_needed()
        box, cell = field.bounding_box(), field.locator("xpath=ancestor::td").bounding_box()
        # Inside its cell, padding included (not cut off at the screen's edge).
        assert box["x"] >= cell["x"] and box["x"] + box["width"] <= cell["x"] + cell["width"] - 4
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert js_errors == []
    expect(row.locator(".status")).to_have_count(0)  # the status once: the select
