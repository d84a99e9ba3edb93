"""Crafted input never answers 500: every URL of the site (crm.urls' resolver
walked, admin included), as anonymous, telecaller and manager, with a NUL, a
very long and a non-UTF-8 value in each known query parameter and an unknown
one, in each path argument, in the cookies and in the headers; and each form
of the site with such a value in each of its fields and an unknown one.

One test per (role, value) sends all of that URL by URL and lists every 500,
so a failure names each request that broke."""

import re
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from leads.models import Lead
from tests.factories import (
    FollowupSnapshotFactory,
    LeadFactory,
    ManagerFactory,
    UserFactory,
    WorkedLeadFactory,
)

pytestmark = pytest.mark.django_db

UNKNOWN = "zz_unknown"


@dataclass(frozen=True)
class Crafted:
    """One hostile value, as it travels in a URL (percent-encoded), in a
    header (the decoded text) and in a raw Cookie header."""

    name: str
    in_url: str
    in_header: str
    in_cookie: str


CRAFTED = [
    # The attack's cookie: an escaped NUL that http.cookies decodes, in a
    # value otherwise long enough to be looked up as a session key.
    Crafted("nul", "%00abc", "\x00abc", '"\\000' + "a" * 39 + '"'),
    Crafted("long", "9" * 10_000, "9" * 10_000, "a" * 10_000),
    # Latin-1 is how WSGI hands raw bytes over: these are the bytes FF FE.
    Crafted("non_utf8", "%FF%FEabc", "\xff\xfeabc", "\xff\xfe" + "a" * 38),
]

HEADERS = ["User-Agent", "Accept", "Accept-Language", "Referer", "Origin", "X-Forwarded-For",
           "X-Forwarded-Proto", "If-Modified-Since", "X-Requested-With", "X-Zz-Unknown"]

# Query parameters each page reads besides the admin changelists' (asked below).
PARAMS = {
    "dashboard:index": {"date": "", "user": "", "page": ""},
    "dashboard:data": {"date": "", "user": "", "page": ""},
    "leads:list": {"q": "", "status": "", "user": "", "page": ""},
    "login": {"next": ""},
    "admin:login": {"next": ""},
    "admin:autocomplete": {"app_label": "leads", "model_name": "lead",
                           "field_name": "creator", "term": "a", "page": "1"},
    "admin:leads_lead_owner_autocomplete": {"app_label": "leads", "model_name": "lead",
                                            "field_name": "creator", "term": "a", "page": "1"},
}
ADMIN_OBJECT_PARAMS = {"_changelist_filters": "", "_popup": "", "_to_field": ""}
ADMIN_CHANGELIST_PARAMS = {"q": "", "o": "", "p": "", "e": "", "all": "", "_popup": "",
                           "_to_field": ""}

_ROUTE_ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


@dataclass
class Target:
    path: str  # with the sample arguments filled in
    view_name: str | None
    arguments: dict = field(default_factory=dict)  # name -> sample value in the path
    params: dict = field(default_factory=dict)  # query parameter -> a valid value


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else None
            yield prefix + str(pattern.pattern), name, pattern.callback


def _sample_arguments(route, samples):
    """{argument: sample} for the arguments `route` takes."""
    names = _REGEX_GROUP.findall(route) + _ROUTE_ARGUMENT.findall(_REGEX_GROUP.sub("", route))
    model_path = re.match(r"admin/(\w+)/(\w+)/", route)
    values = {}
    for name in names:
        if name in ("object_id", "id") and model_path and model_path[1] in samples["models"]:
            values[name] = samples["models"][model_path[1]][model_path[2]]
        else:
            values[name] = samples[name]
    return values


def _fill(route, values):
    path = _REGEX_GROUP.sub(lambda m: str(values[m[1]]), route)
    path = _ROUTE_ARGUMENT.sub(lambda m: str(values[m[1]]), path)
    return "/" + path.replace("^", "").replace("$", "")


def site_targets(samples, changelist_params):
    """Every URL pattern of the site with sample arguments, checked to resolve
    back to its own view."""
    targets = []
    for route, name, callback in _walk(get_resolver().url_patterns):
        values = _sample_arguments(route, samples)
        path = _fill(route, values)
        assert resolve(path).func is callback, f"{route} filled as {path} resolves elsewhere"
        params = dict(PARAMS.get(name, {}))
        if name and name.startswith("admin:") and name.endswith("_changelist"):
            params.update(changelist_params[name])
        elif name and name.startswith("admin:") and (
                values or name.endswith("_add")):
            params.update(ADMIN_OBJECT_PARAMS)
        targets.append(Target(path, name, values, params))
    return targets


@pytest.fixture
def samples():
    telecaller = UserFactory(username="caller")
    manager = ManagerFactory(username="boss")
    lead = LeadFactory(creator=telecaller)
    worked = WorkedLeadFactory(lead=lead)
    snapshot = FollowupSnapshotFactory(user=telecaller)
    models = {}
    for model in apps.get_models():
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            models.setdefault(model._meta.app_label, {})[model._meta.model_name] = first.pk
    models["leads"].update(lead=lead.pk, workedlead=worked.pk, followupsnapshot=snapshot.pk)
    models["auth"].update(user=telecaller.pk, group=Group.objects.get(name="Managers").pk)
    return {
        "telecaller": telecaller, "manager": manager, "models": models,
        "pk": lead.pk, "object_id": lead.pk,
        "content_type_id": ContentType.objects.get_for_model(Lead).pk,
        "app_label": "leads", "uidb64": "MQ", "token": "set-password", "url": "nowhere/",
    }


@pytest.fixture
def changelist_params(samples):
    """For each admin changelist, its own parameters and those of each of its
    list filters, as a superuser's changelist reports them."""
    client = Client()
    client.force_login(UserFactory(superuser=True, username="root"))
    found = {}
    for route, name, _ in _walk(get_resolver().url_patterns):
        if name and name.startswith("admin:") and name.endswith("_changelist"):
            changelist = client.get(_fill(route, {})).context["cl"]
            params = dict(ADMIN_CHANGELIST_PARAMS)
            for spec in changelist.filter_specs:
                params.update(dict.fromkeys(spec.expected_parameters(), ""))
            found[name] = params
    return found


def _client(role, samples):
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        client.force_login(samples[role])
    return client


def _requests(target, crafted, session_cookie):
    """(description, path, extra WSGI environ) for every request of the sweep."""
    base = {name: value for name, value in target.params.items() if value}
    for param in [*target.params, UNKNOWN]:
        query = "&".join(f"{name}={value}" for name, value in {**base, param: None}.items()
                         if value is not None)
        query = f"{query}&{param}={crafted.in_url}" if query else f"{param}={crafted.in_url}"
        yield f"query {param}", f"{target.path}?{query}", {}
    for argument, sample in target.arguments.items():
        path = target.path.replace(f"/{sample}/", f"/{crafted.in_url}/", 1)
        if path != target.path:
            yield f"path {argument}", path, {}
    yield "session cookie", target.path, {"HTTP_COOKIE": f"sessionid={crafted.in_cookie}"}
    cookies = f"csrftoken={crafted.in_cookie}; {UNKNOWN}={crafted.in_cookie}"
    if session_cookie:
        cookies = f"sessionid={session_cookie}; {cookies}"
    yield "other cookies", target.path, {"HTTP_COOKIE": cookies}
    headers = {"HTTP_" + name.upper().replace("-", "_"): crafted.in_header for name in HEADERS}
    yield "headers", target.path, headers


@pytest.mark.parametrize("crafted", CRAFTED, ids=lambda crafted: crafted.name)
@pytest.mark.parametrize("role", ["anonymous", "telecaller", "manager"])
def test_no_url_answers_500_to_crafted_input(role, crafted, samples, changelist_params):
    targets = site_targets(samples, changelist_params)
    client = _client(role, samples)
    session = client.cookies.get("sessionid")
    session_cookie = session.value if session else None
    failures = []
    for target in targets:
        for description, path, extra in _requests(target, crafted, session_cookie):
            response = client.get(path, **extra)
            if response.status_code >= 500:
                failures.append(f"{response.status_code} {description}: {path[:150]}")
    assert failures == []


def test_the_sweep_covers_every_url_of_the_site(samples, changelist_params):
    targets = site_targets(samples, changelist_params)
    names = {target.view_name for target in targets}
    assert {"dashboard:index", "dashboard:data", "leads:list", "leads:edit", "admin:index",
            "admin:autocomplete", "admin:leads_lead_changelist", "admin:leads_lead_change",
            "admin:auth_user_change", "login", "healthz"} <= names
    lead_filters = changelist_params["admin:leads_lead_changelist"]
    assert {"status__exact", "creator__id__exact", "followup_date__gte"} <= set(lead_filters)


def _forms(samples):
    """(role, URL, a function giving valid form data now) for each form of the site."""
    lead = samples["lead"]

    def edit_data():
        lead.refresh_from_db()
        return {"status": "open", "followup_date": "2030-12-01T10:00", "remarks": "r",
                "modified_token": lead.modified_at.isoformat()}

    lead_fields = {"customer_name": "Asha", "mobile": "9829012345",
                   "car_registration": "RJ14AB1234", "status": "open",
                   "followup_date_0": "2026-12-01", "followup_date_1": "10:00:00",
                   "remarks": "r", "creator": str(samples["telecaller"].pk)}
    return [
        ("telecaller", "/leads/new/", lambda: {
            "customer_name": "Asha", "mobile": "9829012345", "car_registration": "",
            "status": "open", "followup_date": "2026-12-01T10:00", "remarks": "",
            "save_anyway": "on"}),
        ("telecaller", f"/leads/{lead.pk}/edit/", edit_data),
        ("telecaller", f"/leads/{lead.pk}/quick-update/", lambda: {
            "status": "open", "followup_date": "2030-12-01T10:00", "remark": "r",
            "next": "/dashboard/"}),
        ("telecaller", "/accounts/password_change/", lambda: {
            "old_password": "password", "new_password1": "x", "new_password2": "x"}),
        ("anonymous", "/accounts/login/", lambda: {
            "username": "caller", "password": "wrong", "next": "/dashboard/"}),
        ("manager", f"/admin/leads/lead/{lead.pk}/change/", lambda: dict(lead_fields)),
        ("manager", "/admin/leads/lead/add/", lambda: dict(lead_fields)),
        ("manager", "/admin/leads/lead/", lambda: {
            "action": "reassign", "_selected_action": str(lead.pk), "index": "0",
            "select_across": "0", "status": "open", "creator": str(samples["manager"].pk)}),
    ]


@pytest.mark.parametrize("crafted", CRAFTED, ids=lambda crafted: crafted.name)
def test_no_form_answers_500_to_crafted_input(crafted, samples):
    samples["lead"] = Lead.objects.get(pk=samples["pk"])
    clients = {role: _client(role, samples) for role in ("anonymous", "telecaller", "manager")}
    failures = []
    for role, url, valid_data in _forms(samples):
        for name in [*valid_data(), UNKNOWN]:
            fields = {**valid_data(), name: None}
            body = "&".join(f"{key}={quote(value)}" for key, value in fields.items()
                            if value is not None)
            body += f"&{name}={crafted.in_url}"
            response = clients[role].post(url, body,
                                          content_type="application/x-www-form-urlencoded")
            if response.status_code >= 500:
                failures.append(f"{response.status_code} {role} {url} field {name}")
    assert failures == []
