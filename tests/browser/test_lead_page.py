"""On a phone: from the due card to the WhatsApp picker, a message sent
(the POST's redirect to wa.me passes the Content-Security-Policy), and the
send on the lead page's history."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import LeadFactory, UserFactory
from whatsapp.models import WhatsAppSend, WhatsAppTemplate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_a_whatsapp_message_from_the_due_card_lands_on_the_lead_page(page, live_server, login):
    asha = UserFactory(username="asha")
    lead = LeadFactory(creator=asha, customer_name="Ravi & Sons", mobile="9829012345",
                       followup_date=timezone.now())
    WhatsAppTemplate.objects.create(name="Booking", text="Hi {customer_name}, book? {telecaller}")
    blocked = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and blocked.append(message.text))
    # wa.me is not reachable from here: answer for it, so the navigation ends.
    page.route("https://wa.me/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<title>WhatsApp</title>"))
    page.set_viewport_size(PHONE)
    login(asha)

    page.locator(f'tr[data-lead="{lead.pk}"]').get_by_role("link", name="WhatsApp").click()
    expect(page.get_by_role("heading", name="WhatsApp Ravi & Sons")).to_be_visible()
    expect(page.get_by_text("Hi Ravi & Sons, book? asha")).to_be_visible()
    page.get_by_role("button", name="Booking").click()
    page.wait_for_url(re.compile(r"^https://wa\.me/"))
    assert page.url == "https://wa.me/919829012345?text=Hi%20Ravi%20%26%20Sons%2C%20book%3F%20asha"
    assert blocked == []
    assert WhatsAppSend.objects.get().text == "Hi Ravi & Sons, book? asha"

    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    history = page.locator("ol.timeline")
    expect(history.locator("li").first).to_contain_text("WhatsApp sent: Booking")
    expect(history.locator("li").first).to_contain_text("asha")
    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
