from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_safe

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
    with selectors.shared_queries():
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


def _dashboard(request, *, charts=False):
    """Validate the query string and load the data: (manager, form, active users,
    document, trend).

    The document (and the trend) are None when the form has errors (the page
    answers 400); a non-manager asking for someone else's leads raises
    PermissionDenied. The trend is loaded only with `charts`.
    """
    manager = user_sees_all_leads(request.user)
    bypass = cache.bypass_active()
    # Lazy: only a manager's page (the user menu) or a `user` parameter needs the list.
    users = SimpleLazyObject(lambda: _active_users(bypass=bypass)) if manager else None
    form = DashboardForm(request.GET, viewer=request.user, active_users=users)
    if form.has_error("user", code="forbidden"):
        raise PermissionDenied("You can only see your own dashboard.")
    if not form.is_valid():
        return manager, form, users, None, None
    day, user, page = (form.cleaned_data[name] for name in ("date", "user", "page"))
    try:
        parts = load_dashboard(
            request, day=day, user_id=user and user["id"], page=page, charts=charts,
            bypass=bypass,
        )
    except selectors.DuePageOutOfRange as exc:
        form.add_error("page", str(exc))
        return manager, form, users, None, None
    trend = parts.pop("trend", None)
    document = selectors.dashboard_document(day=day, user=user, **parts)
    return manager, form, users, document, trend


@require_safe
@login_required
def index(request):
    manager, form, users, data, trend = _dashboard(request, charts=True)
    due = data["due"] if data else None
    day = form.cleaned_data.get("date")
    context = {
        "form": form,
        # The day shown, or what was typed when it is not a valid day.
        "date_value": day.isoformat() if day else form.data.get("date", ""),
        "data": data,
        "trend": trend,
        "is_manager": manager,
        "active_users": users,
        "next_url": request.get_full_path(),
        "previous_page": due["page"] - 1 if due and due["page"] > 1 else None,
        "next_page": due["page"] + 1 if due and due["page"] < due["pages"] else None,
    }
    return render(request, "dashboard/index.html", context, status=200 if data else 400)


@require_safe
def data(request):
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Log in to see the dashboard."}, status=403)
    try:
        _, form, _, document, _ = _dashboard(request)
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
