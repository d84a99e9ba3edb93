"""Template texts: validation on save (admin) and filling, escaping included."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import LeadFactory, ManagerFactory, UserFactory
from whatsapp.messages import fill, placeholder_values, validate_template_text, whatsapp_url
from whatsapp.models import WhatsAppTemplate

IST = ZoneInfo("Asia/Kolkata")
VALID = "{customer_name}, {car_registration}, {followup_date}, {telecaller}"


@pytest.mark.parametrize("text", [
    "Hello {customer_name}, your {car_registration} is due on {followup_date}. {telecaller}",
    "No placeholders at all",
    "Literal braces {{like this}} are fine",
])
def test_valid_texts_pass(text):
    assert validate_template_text(text) is None


@pytest.mark.parametrize(("text", "message"), [
    ("Hi {name}", f"Unknown placeholder {{name}}: the valid ones are {VALID}."),
    ("Hi {name} {mobile}",
     f"Unknown placeholders {{name}}, {{mobile}}: the valid ones are {VALID}."),
    ("Hi {}", f"Unknown placeholder {{}}: the valid ones are {VALID}."),
    ("Hi {customer_name!r}",
     f"Unknown placeholder {{customer_name!r}}: the valid ones are {VALID}."),
    ("Hi {customer_name:>20}",
     f"Unknown placeholder {{customer_name:>20}}: the valid ones are {VALID}."),
    ("Hi {customer_name.__class__}",
     f"Unknown placeholder {{customer_name.__class__}}: the valid ones are {VALID}."),
    ("Hi {customer_name", f"A brace is not closed or not opened: placeholders are written {VALID}; "
                          "to show a brace itself, type it twice."),
    ("Hi customer_name}", f"A brace is not closed or not opened: placeholders are written {VALID}; "
                          "to show a brace itself, type it twice."),
])
def test_bad_texts_are_refused_naming_the_valid_placeholders(text, message):
    with pytest.raises(ValidationError) as refused:
        validate_template_text(text)
    assert refused.value.messages == [message]


@pytest.mark.django_db
def test_fill_puts_the_leads_values_in_and_never_reads_them_as_placeholders():
    sender = UserFactory(username="asha", first_name="Asha", last_name="Rao")
    lead = LeadFactory(customer_name="{telecaller} <b>Ravi</b> & co", car_registration="RJ14AB1234",
                       followup_date=datetime(2026, 11, 30, 17, 30, tzinfo=IST))
    text = fill("Hi {customer_name}, {car_registration} on {followup_date} ({telecaller}) {{ok}}",
                placeholder_values(lead=lead, sender=sender))
    assert text == ("Hi {telecaller} <b>Ravi</b> & co, RJ14AB1234 on 30 Nov 2026, 17:30 "
                    "(Asha Rao) {ok}")


@pytest.mark.django_db
def test_fill_without_a_followup_or_full_name():
    sender = UserFactory(username="asha")
    lead = LeadFactory(followup_date=None, car_registration="")
    values = placeholder_values(lead=lead, sender=sender)
    assert (values["followup_date"], values["car_registration"], values["telecaller"]) == (
        "", "", "asha")


def test_fill_refuses_a_stored_text_that_is_not_valid():
    with pytest.raises(ValidationError):
        fill("Hi {mobile}", {"customer_name": "x"})


def test_whatsapp_url_encodes_everything():
    assert whatsapp_url("9829012345", "Hi Ravi & co?\n#1 100% {ok} /x+y=z") == (
        "https://wa.me/919829012345?text=Hi%20Ravi%20%26%20co%3F%0A%231%20100%25%20%7Bok%7D"
        "%20%2Fx%2By%3Dz")


@pytest.mark.django_db
def test_a_manager_adds_a_template_in_admin_and_a_bad_one_is_refused(client):
    client.force_login(ManagerFactory())
    add = reverse("admin:whatsapp_whatsapptemplate_add")
    response = client.post(add, {"name": "Reminder", "text": "Hi {name}"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "text": [f"Unknown placeholder {{name}}: the valid ones are {VALID}."]}
    assert WhatsAppTemplate.objects.count() == 0
    response = client.post(add, {"name": "Reminder", "text": "Hi {customer_name}"})
    assert response.status_code == 302
    assert list(WhatsAppTemplate.objects.values_list("name", "text")) == [
        ("Reminder", "Hi {customer_name}")]


@pytest.mark.django_db
def test_telecallers_cannot_maintain_templates(client):
    client.force_login(UserFactory())
    response = client.get(reverse("admin:whatsapp_whatsapptemplate_add"))
    assert response.status_code == 302  # to the admin login: not staff
