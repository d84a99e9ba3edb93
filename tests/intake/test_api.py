"""POST /api/intake/: the order of checks and each answer."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from intake.api import count_request, new_token
from intake.models import ApiToken, EntryState, IntakeEntry, hash_token
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

API = reverse("intake:api")
LEAD = {"customer_name": "Asha Rao", "mobile": "+91 98290 12345", "car_model": "Swift",
        "service_type": "Service", "external_id": "form-1"}


@pytest.fixture
def token():
    raw, digest, prefix = new_token()
    ApiToken.objects.create(name="Website", source="website", token_hash=digest, prefix=prefix)
    return raw


def post(body, token=None, content_type="application/json", client=None, **extra):
    client = client or Client(enforce_csrf_checks=True)
    if token:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(API, data, content_type=content_type, **extra)


def test_a_new_lead_waits_in_the_queue(token):
    response = post(LEAD, token)
    assert response.status_code == 201
    entry = IntakeEntry.objects.get()
    assert response.json() == {"id": entry.pk, "created": True}
    assert (entry.mobile, entry.source, entry.state, entry.external_id) == (
        "9829012345", "website", EntryState.WAITING, "form-1")
    assert entry.token.source == "website" and entry.received_at <= timezone.now()


def test_repeated_external_id_answers_200_with_the_earlier_id(token):
    first = post(LEAD, token).json()["id"]
    again = post({**LEAD, "customer_name": "Changed"}, token)
    assert again.status_code == 200
    assert again.json() == {"id": first, "created": False}
    assert IntakeEntry.objects.count() == 1


def test_duplicates_are_stored_marked(token):
    lead = LeadFactory(mobile="9829012345")
    response = post({**LEAD, "external_id": None}, token)
    assert response.status_code == 201
    assert response.json()["duplicate_of"] == lead.pk
    assert response.json()["duplicate_of_kind"] == "lead"
    lead.status = "completed"
    lead.save()
    first = IntakeEntry.objects.get()
    second = post({**LEAD, "external_id": "form-2"}, token).json()
    assert (second["duplicate_of"], second["duplicate_of_kind"]) == (first.pk, "entry")
    assert IntakeEntry.objects.count() == 2


def test_413_before_reading_or_authenticating(monkeypatch):
    monkeypatch.setattr("intake.api.token_of", lambda request: pytest.fail("read the token"))
    response = post("x" * (65 * 1024))
    assert response.status_code == 413
    assert response.json() == {"error": "The request body is too large: at most 64.0\xa0KB."}


def test_401_without_a_valid_unrevoked_token(token):
    assert post(LEAD).status_code == 401
    assert post(LEAD, "crm_wrong").json()["error"].startswith("Send a valid API token")
    ApiToken.objects.update(revoked_at=timezone.now())
    response = post(LEAD, token)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"
    assert not IntakeEntry.objects.exists()


def test_429_over_the_tokens_rate_with_retry_after(token):
    ApiToken.objects.update(rate_per_minute=2)
    assert post({**LEAD, "external_id": "a"}, token).status_code == 201
    assert post({**LEAD, "external_id": "b"}, token).status_code == 201
    response = post({**LEAD, "external_id": "c"}, token)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Too many requests" in response.json()["error"]
    assert IntakeEntry.objects.count() == 2


def test_default_rate_is_the_setting_and_a_new_minute_starts_afresh(token, settings):
    settings.INTAKE_API_RATE_PER_MINUTE = 1
    stored = ApiToken.objects.get()
    assert count_request(stored, now=600.0) == 0
    assert count_request(stored, now=630.5) == 30
    assert count_request(stored, now=660.0) == 0


def test_415_when_not_json(token):
    response = post("customer_name=A", token, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]


@pytest.mark.parametrize("body, expected", [
    ("{not json", {"error"}),
    ("[1, 2]", {"error"}),
    ({"customer_name": "A", "mobile": "123"}, {"mobile"}),
    ({"customer_name": "", "mobile": "9829012345"}, {"customer_name"}),
    ({"customer_name": "A" * 10_000, "mobile": "9829012345"}, {"customer_name"}),
    ({"customer_name": "A", "mobile": "9829012345", "colour": "red"}, {"colour"}),
    ({"customer_name": ["A"], "mobile": "9829012345"}, {"customer_name"}),
    ({"customer_name": "A", "mobile": "9829012345", "car_registration": "XYZ"},
     {"car_registration"}),
])
def test_400_with_a_message(token, body, expected):
    response = post(body, token)
    assert response.status_code == 400
    answer = response.json()
    if expected == {"error"}:
        assert set(answer) == {"error"} and answer["error"]
    else:
        assert set(answer["errors"]) == expected
        assert all(messages for messages in answer["errors"].values())
    assert not IntakeEntry.objects.exists()


def test_only_post(token):
    response = Client().get(API)
    assert response.status_code == 405 and response.json()["error"]


def test_admin_shows_a_new_token_once_and_stores_its_hash(client):
    client.force_login(UserFactory(superuser=True, username="root"))
    response = client.post(reverse("admin:intake_apitoken_add"),
                           {"name": "Website form", "source": "website"}, follow=True)
    page = response.content.decode()
    stored = ApiToken.objects.get()
    raw = page.split("The token for website: ")[1].split(" ")[0]
    assert hash_token(raw) == stored.token_hash and raw not in stored.token_hash
    assert raw.startswith(stored.prefix)
    assert post(LEAD, raw).status_code == 201
    client.post(reverse("admin:intake_apitoken_changelist"),
                {"action": "revoke", "_selected_action": [stored.pk]})
    assert post({**LEAD, "external_id": "x"}, raw).status_code == 401


def test_the_view_measures_the_body_too(token, settings):
    # Without the middleware's early check (e.g. reordered), the view still refuses.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.startswith("intake.")]
    response = post({**LEAD, "remarks": "x" * (70 * 1024)}, token)
    assert response.status_code == 413
    assert not IntakeEntry.objects.exists()
