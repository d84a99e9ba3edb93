"""The WhatsApp picker: lists filled messages (most used first), records the
one chosen on POST and redirects to wa.me; never writes on GET."""

from html import escape

import pytest
from django.urls import reverse

from tests.factories import LeadFactory, UserFactory
from whatsapp.models import WhatsAppSend, WhatsAppTemplate

pytestmark = pytest.mark.django_db


def _picker(lead):
    return reverse("whatsapp:picker", args=[lead.pk])


@pytest.fixture
def templates(db):
    return [WhatsAppTemplate.objects.create(name=name, text=text) for name, text in [
        ("Arrival", "Hi {customer_name}, your car {car_registration} is ready."),
        ("Booking", "Dear {customer_name}, shall we book a service? {telecaller}"),
        ("Thanks", "Thank you!"),
    ]]


def test_the_picker_lists_the_filled_messages_and_writes_nothing(client, templates):
    owner = UserFactory(username="asha")
    lead = LeadFactory(creator=owner, customer_name="Ravi", car_registration="RJ14AB1234")
    client.force_login(owner)
    response = client.get(_picker(lead))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Hi Ravi, your car RJ14AB1234 is ready." in html
    assert "Dear Ravi, shall we book a service? asha" in html
    assert [t.name for t, _, _ in response.context["choices"]] == ["Arrival", "Booking", "Thanks"]
    assert WhatsAppSend.objects.count() == 0


def test_the_picker_escapes_the_leads_values(client, templates):
    owner = UserFactory()
    lead = LeadFactory(creator=owner, customer_name='<script>alert("x")</script>')
    client.force_login(owner)
    html = client.get(_picker(lead)).content.decode()
    assert "<script>alert" not in html
    assert escape('Hi <script>alert("x")</script>, your car') in html


def test_choosing_a_message_records_it_and_redirects_to_wa_me(client, templates):
    owner = UserFactory(username="asha")
    lead = LeadFactory(creator=owner, customer_name="Ravi & Sons", mobile="9829012345")
    client.force_login(owner)
    response = client.post(_picker(lead), {"template": templates[1].pk})
    assert response.status_code == 303
    assert response["Location"] == (
        "https://wa.me/919829012345?text=Dear%20Ravi%20%26%20Sons%2C%20shall%20we%20book%20a"
        "%20service%3F%20asha")
    send = WhatsAppSend.objects.get()
    assert (send.lead, send.user, send.template, send.template_name, send.text) == (
        lead, owner, templates[1], "Booking", "Dear Ravi & Sons, shall we book a service? asha")


def test_the_picker_puts_this_users_most_used_first(client, templates):
    owner, other = UserFactory(), UserFactory()
    lead = LeadFactory(creator=owner)
    arrival, booking, thanks = templates
    for template, user, times in [(thanks, owner, 2), (booking, owner, 1), (arrival, other, 5)]:
        for _ in range(times):
            WhatsAppSend.objects.create(lead=lead, user=user, template=template,
                                        template_name=template.name, text="x")
    client.force_login(owner)
    choices = client.get(_picker(lead)).context["choices"]
    assert [(t.name, t.uses) for t, _, _ in choices] == [
        ("Thanks", 2), ("Booking", 1), ("Arrival", 0)]


def test_another_users_lead_is_404_and_nothing_recorded(client, templates):
    lead = LeadFactory()
    client.force_login(UserFactory())
    assert client.get(_picker(lead)).status_code == 404
    response = client.post(_picker(lead), {"template": templates[0].pk})
    assert response.status_code == 404
    assert "This lead does not exist or is not yours." in response.content.decode()
    assert WhatsAppSend.objects.count() == 0


def test_a_manager_may_send_for_anyones_lead(client, manager, templates):
    lead = LeadFactory()
    client.force_login(manager)
    assert client.post(_picker(lead), {"template": templates[2].pk}).status_code == 303
    assert WhatsAppSend.objects.get().user == manager


@pytest.mark.parametrize(("posted", "error"), [
    ({}, "Choose a message."),
    ({"template": "999999"}, "That message no longer exists: choose one below."),
    ({"template": "x"}, "That message no longer exists: choose one below."),
])
def test_a_bad_choice_says_so_and_records_nothing(client, templates, posted, error):
    owner = UserFactory()
    lead = LeadFactory(creator=owner)
    client.force_login(owner)
    response = client.post(_picker(lead), posted)
    assert response.status_code == 400
    assert response.context["error"] == error
    assert WhatsAppSend.objects.count() == 0


def test_a_template_broken_in_the_table_is_refused_not_half_sent(client):
    broken = WhatsAppTemplate.objects.create(name="Broken", text="ok")
    WhatsAppTemplate.objects.filter(pk=broken.pk).update(text="Hi {mobile}")
    owner = UserFactory()
    lead = LeadFactory(creator=owner)
    client.force_login(owner)
    response = client.post(_picker(lead), {"template": broken.pk})
    assert response.status_code == 400
    assert response.context["error"].startswith("This message cannot be sent: Unknown placeholder")
    assert WhatsAppSend.objects.count() == 0


def test_the_lead_list_and_lead_page_link_to_the_picker(client):
    owner = UserFactory()
    lead = LeadFactory(creator=owner)
    client.force_login(owner)
    button = f'<a class="whatsapp" href="/leads/{lead.pk}/whatsapp/">WhatsApp</a>'
    assert button in client.get(reverse("leads:list")).content.decode()
    assert button in client.get(reverse("timeline:lead", args=[lead.pk])).content.decode()
