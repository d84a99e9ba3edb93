"""POST /api/intake/: a web form or webhook hands in one lead, authenticated
by a per-source token (docs/intake.md). Every answer is JSON; the checks run
in the documented order: 413 (from Content-Length, by the middleware, before
the body is read), 401, 429, 415, 400, then 200 for a repeat or 201."""

import json
import math
import secrets
import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from intake.models import ApiRateWindow, ApiToken, IntakeEntry, hash_token
from intake.rows import clean_lead_field
from leads.models import Lead

API_FIELDS = ("customer_name", "mobile", "car_registration", "car_model", "service_type",
              "remarks", "external_id")
EXTERNAL_ID_MAX_CHARS = IntakeEntry._meta.get_field("external_id").max_length
TOKEN_PREFIX = "crm_"


def new_token():
    """A fresh token: (the token to hand out once, its stored hash, its prefix)."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return raw, hash_token(raw), raw[:len(TOKEN_PREFIX) + 6]


def _error(status, message, **headers):
    response = JsonResponse({"error": message}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def token_of(request):
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    return ApiToken.objects.filter(token_hash=hash_token(raw.strip()), revoked_at=None).first()


def count_request(token, *, now=None):
    """Count one request of `token`; return the seconds to wait when it is
    over its rate (0: go ahead). One statement: an atomic upsert."""
    rate = token.rate_per_minute if token.rate_per_minute is not None else \
        settings.INTAKE_API_RATE_PER_MINUTE
    now = time.time() if now is None else now
    minute = int(now // 60)
    table = ApiRateWindow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (token_id, minute, requests) VALUES (%s, %s, 1) "
            f"ON CONFLICT (token_id, minute) DO UPDATE SET requests = {table}.requests + 1 "
            "RETURNING requests",
            [token.pk, minute],
        )
        (requests,) = cursor.fetchone()
    if requests == 1:
        # A new minute: the token's older windows are of no more use.
        ApiRateWindow.objects.filter(token=token, minute__lt=minute).delete()
    if rate and requests > rate:
        return max(1, math.ceil((minute + 1) * 60 - now))
    return 0


def _clean(payload):
    """(values, errors) for the JSON object `payload`."""
    errors = {}
    values = {}
    for name in sorted(set(payload) - set(API_FIELDS)):
        errors[name] = [f"Unknown field. Accepted: {', '.join(API_FIELDS)}."]
    for name in API_FIELDS:
        raw = payload.get(name)
        if raw is None:
            raw = ""
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            errors[name] = ["Must be text."]
            continue
        if name == "external_id":
            text = str(raw).strip()
            if len(text) > EXTERNAL_ID_MAX_CHARS:
                errors[name] = [f"At most {EXTERNAL_ID_MAX_CHARS} characters."]
            values[name] = text or None
            continue
        try:
            values[name] = clean_lead_field(name, raw)
        except ValidationError as exc:
            errors[name] = exc.messages
    return values, errors


def _duplicate_of(mobile):
    lead = Lead.objects.not_closed().filter(mobile=mobile).order_by("pk").values_list(
        "pk", flat=True).first()
    if lead is not None:
        return {"duplicate_of_lead_id": lead}
    entry = IntakeEntry.objects.waiting().filter(mobile=mobile).order_by("pk").values_list(
        "pk", flat=True).first()
    if entry is not None:
        return {"duplicate_of_entry_id": entry}
    return {}


@csrf_exempt
def intake_api(request):
    if request.method != "POST":
        return _error(405, "Send the lead with POST.", Allow="POST")
    token = token_of(request)
    if token is None:
        return _error(401, "Send a valid API token: Authorization: Bearer <token>.",
                      WWW_Authenticate="Bearer")
    wait = count_request(token)
    if wait:
        return _error(429, f"Too many requests for this token: try again in {wait} s.",
                      Retry_After=str(wait))
    if request.content_type != "application/json":
        return _error(415, "Send the lead as JSON (Content-Type: application/json).")
    try:
        body = request.body
    except RequestDataTooBig:
        body = None
    if body is None or len(body) > settings.INTAKE_API_MAX_BODY_BYTES:
        # The middleware refuses by Content-Length before reading; this holds
        # wherever the view is reached some other way.
        return _error(413, f"The request body is too large: at most "
                           f"{filesizeformat(settings.INTAKE_API_MAX_BODY_BYTES)}.")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return _error(400, f"The body is not valid JSON: {exc}.")
    if not isinstance(payload, dict):
        return _error(400, "The body must be a JSON object with the lead's fields.")
    values, errors = _clean(payload)
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    external_id = values.pop("external_id")
    if external_id is not None:
        earlier = _earlier(token, external_id)
        if earlier is not None:
            return JsonResponse({"id": earlier, "created": False}, status=200)
    duplicate = _duplicate_of(values["mobile"])
    try:
        with transaction.atomic():
            entry = IntakeEntry.objects.create(
                **values, source=token.source, external_id=external_id, token=token,
                received_at=timezone.now(), **duplicate,
            )
    except IntegrityError:
        # The same external_id arrived at the same moment from another request.
        earlier = _earlier(token, external_id)
        if earlier is None:
            raise
        return JsonResponse({"id": earlier, "created": False}, status=200)
    body = {"id": entry.pk, "created": True}
    if duplicate:
        (kind, pk), = duplicate.items()
        body["duplicate_of"] = pk
        body["duplicate_of_kind"] = "lead" if kind == "duplicate_of_lead_id" else "entry"
    return JsonResponse(body, status=201)


def _earlier(token, external_id):
    return IntakeEntry.objects.filter(source=token.source, external_id=external_id).values_list(
        "pk", flat=True).first()
