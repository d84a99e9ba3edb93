from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_safe

from crm.db_routers import use_replica, wrote_recently
from dashboard import cache, selectors
from dashboard.forms import DashboardForm
from leads.models import user_sees_all_leads


def load_dashboard(request, *, day, user_id, page, charts=False, bypass=None):
    """The dashboard's data: the selector families, from the cache when it
    holds current values (see dashboard/cache.py). Returns {"day_metrics",
    "team_performance", "due"} and, with `charts` (the page, not the JSON
    document), "trend".

    The due page comes first: a page out of range (DuePageOutOfRange) then
    fails before the expensive all-time aggregate runs. Families computed in
    one request share their lead aggregates (`shared_queries`).

    The selectors may read from a replica (crm/db_routers.py), unless this
    client wrote within the read-your-writes window; values the cache stores
    are computed on the primary all the same (dashboard/cache.py).
    """
    scope = cache.user_scope(user_id)
    date = day.isoformat()
    parts = [
        cache.Part("due", scope, {"date": date, "page": page},
                   lambda: selectors.dashboard_due_page(day=day, user_id=user_id, page=page)),
        cache.Part("day", scope, {"date": date},
                   lambda: selectors.dashboard_day_metrics(day=day, user_id=user_id)),
        cache.Part("team", scope, {"date": date},
                   lambda: selectors.dashboard_team_performance(day=day, user_id=user_id)),
    ]
    if charts:
        parts.append(cache.Part("charts", scope, {"date": date},
                                lambda: selectors.dashboard_trend(day=day, user_id=user_id)))
    with use_replica(enabled=not wrote_recently(request)), selectors.shared_queries():
        fetched = cache.fetch(parts, bypass=bypass)
    request.cache_outcome = fetched.outcome
    values = fetched.values
    loaded = {"day_metrics": values["day"], "team_performance": values["team"],
              "due": values["due"]}
    if charts:
        loaded["trend"] = values["charts"]
    return loaded


def _active_users(*, bypass):
    part = cache.Part("users", cache.USERS_SCOPE, {}, selectors.active_users)
    return cache.fetch([part], bypass=bypass).values["users"]


# Per-request values in the cached page body: the body is shared by every
# viewer of the same scope, day, page and role, the CSRF token and the URL
# to come back to are not.
CSRF_PLACEHOLDER = "__CRM_CSRF_TOKEN__"
NEXT_URL_PLACEHOLDER = "__CRM_NEXT_URL__"


def _dashboard(request, *, html=False):
    """Validate the query string and load the data: (manager, form, active users, result).

    The result is None when the form has errors (the page answers 400);
    a non-manager asking for someone else's leads raises PermissionDenied.
    It is the JSON document, or with `html` the page body (see `_page_body`).
    """
    manager, bypass = selectors.viewer_flags(request.user)
    # Lazy: only a manager's page (the user menu) or a `user` parameter needs the list.
    users = SimpleLazyObject(lambda: _active_users(bypass=bypass)) if manager else None
    form = DashboardForm(request.GET, viewer=request.user, active_users=users)
    if form.has_error("user", code="forbidden"):
        raise PermissionDenied("You can only see your own dashboard.")
    if not form.is_valid():
        return manager, form, users, None
    day, user, page = (form.cleaned_data[name] for name in ("date", "user", "page"))
    user_id = user and user["id"]

    def load(*, charts=False):
        parts = load_dashboard(
            request, day=day, user_id=user_id, page=page, charts=charts, bypass=bypass
        )
        trend = parts.pop("trend", None)
        return selectors.dashboard_document(day=day, user=user, **parts), trend

    try:
        if not html:
            return manager, form, users, load()[0]
        part = cache.Part(
            "page", cache.user_scope(user_id),
            {"date": day.isoformat(), "page": page, "manager": int(manager),
             "staff": int(request.user.is_staff)},
            lambda: _page_body(*load(charts=True), manager=manager, staff=request.user.is_staff),
        )
        fetched = cache.fetch([part], bypass=bypass)
        request.cache_outcome = fetched.outcome
        return manager, form, users, fetched.values["page"]
    except selectors.DuePageOutOfRange as exc:
        form.add_error("page", str(exc))
        return manager, form, users, None


def _page_body(data, trend, *, manager, staff):
    """The dashboard page's data sections (charts included) rendered once, for
    the cache: {"html", "date", "user", "trend", "due": {"total", "page", "pages"}}."""
    html = render_to_string("dashboard/includes/body.html", {
        "data": data, "trend": trend, "is_manager": manager, "is_staff": staff,
        "csrf_token": CSRF_PLACEHOLDER, "next_url": NEXT_URL_PLACEHOLDER,
    })
    due = data["due"]
    return {"html": html, "date": data["date"], "user": data["user"], "trend": trend,
            "due": {"total": due["total"], "page": due["page"], "pages": due["pages"]}}


def _personalise(body, request):
    # Replaced only as whole attribute values: what users typed is escaped
    # in the body, so it can never contain `value="…` and be replaced.
    html = body["html"].replace(f'value="{CSRF_PLACEHOLDER}"', f'value="{get_token(request)}"')
    next_url = escape(request.get_full_path())
    return mark_safe(html.replace(f'value="{NEXT_URL_PLACEHOLDER}"', f'value="{next_url}"'))


def _selected_user_id(form):
    if form.is_valid():
        user = form.cleaned_data["user"]
        return user and user["id"]
    try:
        return int(form.data.get("user", ""))
    except ValueError:
        return None


@require_safe
@login_required
def index(request):
    manager, form, users, body = _dashboard(request, html=True)
    due = body["due"] if body else None
    day = form.cleaned_data.get("date")
    context = {
        "form": form,
        # The day shown, or what was typed when it is not a valid day.
        "date_value": day.isoformat() if day else form.data.get("date", ""),
        "data": body,
        "body_html": _personalise(body, request) if body else "",
        "trend": body["trend"] if body else None,
        "is_manager": manager,
        # A plain list: the menu loops over it, and a lazy proxy costs on every access.
        "active_users": list(users) if manager else None,
        "selected_user_id": _selected_user_id(form),
        "previous_page": due["page"] - 1 if due and due["page"] > 1 else None,
        "next_page": due["page"] + 1 if due and due["page"] < due["pages"] else None,
    }
    return render(request, "dashboard/index.html", context, status=200 if body else 400)


@require_safe
def data(request):
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Log in to see the dashboard."}, status=403)
    try:
        _, form, _, document = _dashboard(request)
    except PermissionDenied as exc:
        return JsonResponse({"error": str(exc)}, status=403)
    if document is None:
        errors = {field: list(messages) for field, messages in form.errors.items()}
        return JsonResponse({"errors": errors}, status=400)
    return JsonResponse(document)


@require_safe
@login_required
def cache_stats(request):
    """Managers: the dashboard cache's hit rate, now and over the last window."""
    if not user_sees_all_leads(request.user):
        raise PermissionDenied("Only managers can see the cache statistics.")
    context = {
        "current": cache.cache_stats(window_offset=0),
        "previous": cache.cache_stats(window_offset=1),
        "threshold_pct": int(100 * cache.HIT_RATE_WARNING),
    }
    return render(request, "dashboard/cache_stats.html", context)
