"""Correcting name, mobile and registration from the lead page: the owner or
a manager, the model's rules, the duplicate check, and the history."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from leads.models import Lead, LeadChange
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Asia/Kolkata")


def _correct(lead):
    return reverse("leads:correct", args=[lead.pk])


def _data(lead, **overrides):
    return {"customer_name": lead.customer_name, "mobile": lead.mobile,
            "car_registration": lead.car_registration,
            "modified_token": lead.modified_at.isoformat(), **overrides}


def _history(lead):
    return list(LeadChange.objects.filter(lead_id=lead.pk, kind="changed")
                .order_by("id").values_list("field", "old_value", "new_value", "actor_id"))


@pytest.fixture
def owner(db):
    return UserFactory(username="asha")


@pytest.fixture
def lead(owner):
    return LeadFactory(creator=owner, customer_name="Ravi", mobile="9829012345",
                       car_registration="RJ14AB1234")


def test_the_owner_corrects_all_three_and_the_history_records_them(client, owner, lead):
    client.force_login(owner)
    response = client.post(_correct(lead), _data(
        lead, customer_name="Ravi Kumar", mobile="+91 98290-54321",
        car_registration="rj14 ab 4321"))
    assert response.status_code == 302
    assert response["Location"] == reverse("timeline:lead", args=[lead.pk])
    lead.refresh_from_db()
    assert (lead.customer_name, lead.mobile, lead.car_registration) == (
        "Ravi Kumar", "9829054321", "RJ14AB4321")
    assert _history(lead) == [
        ("customer_name", "Ravi", "Ravi Kumar", owner.pk),
        ("mobile", "9829012345", "9829054321", owner.pk),
        ("car_registration", "RJ14AB1234", "RJ14AB4321", owner.pk),
    ]
    page = client.get(response["Location"]).content.decode()
    assert "Corrected the customer name, mobile, car registration." in page
    assert "Mobile corrected: 9829012345 → 9829054321" in page


def test_a_manager_corrects_anyones_lead(client, manager, lead):
    client.force_login(manager)
    assert client.post(_correct(lead), _data(lead, customer_name="R. Kumar")).status_code == 302
    assert _history(lead) == [("customer_name", "Ravi", "R. Kumar", manager.pk)]


def test_another_telecaller_gets_404_and_nothing_changes(client, lead):
    client.force_login(UserFactory())
    assert client.get(_correct(lead)).status_code == 404
    assert client.post(_correct(lead), _data(lead, customer_name="Mine")).status_code == 404
    lead.refresh_from_db()
    assert (lead.customer_name, _history(lead)) == ("Ravi", [])


@pytest.mark.parametrize(("field", "value", "message"), [
    ("mobile", "12345", "Enter a 10-digit Indian mobile number"),
    ("customer_name", "   ", "Enter the customer's name."),
    ("car_registration", "RJ", "Enter a car registration such as RJ14AB1234"),
])
def test_an_invalid_correction_is_refused_with_the_forms_message(
    client, owner, lead, field, value, message
):
    client.force_login(owner)
    response = client.post(_correct(lead), _data(lead, **{field: value}))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    lead.refresh_from_db()
    assert (lead.customer_name, lead.mobile, lead.car_registration) == (
        "Ravi", "9829012345", "RJ14AB1234")
    assert _history(lead) == []


def test_a_new_mobile_with_an_open_lead_asks_first_then_saves_anyway(client, owner, lead):
    LeadFactory(creator=owner, customer_name="Other", mobile="9829054321")
    client.force_login(owner)
    response = client.post(_correct(lead), _data(lead, mobile="98290 54321"))
    assert response.status_code == 200
    assert [d.customer_name for d in response.context["duplicates"]] == ["Other"]
    assert "Nothing was saved." in response.content.decode()
    lead.refresh_from_db()
    assert lead.mobile == "9829012345"

    response = client.post(_correct(lead), _data(lead, mobile="98290 54321", save_anyway="on"))
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.mobile == "9829054321"


def test_the_lead_itself_is_not_its_own_duplicate(client, owner, lead):
    client.force_login(owner)
    response = client.post(_correct(lead), _data(lead, customer_name="Ravi K"))
    assert response.status_code == 302


def test_a_correction_to_a_lead_changed_meanwhile_is_refused(client, owner, lead):
    client.force_login(owner)
    stale = _data(lead, customer_name="Ravi Kumar")
    Lead.objects.filter(pk=lead.pk).update(customer_name="Ravindra",
                                           modified_at=datetime(2030, 1, 1, tzinfo=IST))
    response = client.post(_correct(lead), stale)
    assert response.status_code == 409
    assert response.context["form"]["customer_name"].value() == "Ravindra"
    assert "Not saved: someone changed this lead after you opened it." in (
        response.content.decode())
    lead.refresh_from_db()
    assert lead.customer_name == "Ravindra"


def test_nothing_to_correct_writes_nothing(client, owner, lead):
    client.force_login(owner)
    response = client.post(_correct(lead), _data(lead, mobile="+91 98290 12345"))
    assert response.status_code == 302
    assert _history(lead) == []


def test_the_lead_page_carries_the_correction_form(client, owner, lead):
    client.force_login(owner)
    html = client.get(reverse("timeline:lead", args=[lead.pk])).content.decode()
    assert f'action="{_correct(lead)}"' in html
    assert 'name="customer_name" value="Ravi"' in html
