import json
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.cache import cache as default_cache
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_safe

from crm.cache_backend import memory_policy
from crm.db_routers import use_replica, wrote_recently
from dashboard import cache, page_slots, selectors
from dashboard.forms import DashboardForm
from dashboard.view_outcomes import Rebuild
from leads.permissions import user_sees_all_leads


def _sections(form, rebuild, *, charts, users):
    """The parts a dashboard response is built from, for the form's valid
    query: the selector families ("due", "day", "team"), with `charts` the
    trend ("charts"), with `users` the active users a manager may pick.
    `rebuild` notes which of them read the lead table when computed.

    The due page comes first: a page out of range (DuePageOutOfRange) then
    fails before the expensive all-time aggregate runs.
    """
    day, user, page = (form.cleaned_data[name] for name in ("date", "user", "page"))
    user_id = user and user["id"]
    scope = cache.user_scope(user_id)
    date = day.isoformat()
    section = rebuild.section
    parts = [
        cache.Part("due", scope, {"date": date, "page": page}, section(
            lambda: selectors.dashboard_due_page(day=day, user_id=user_id, page=page))),
        cache.Part("day", scope, {"date": date}, section(
            lambda: selectors.dashboard_day_metrics(day=day, user_id=user_id))),
        cache.Part("team", scope, {"date": date}, section(
            lambda: selectors.dashboard_team_performance(day=day, user_id=user_id))),
    ]
    if charts:
        parts.append(cache.Part("charts", scope, {"date": date}, section(
            lambda: selectors.dashboard_trend(day=day, user_id=user_id), reads_leads=False)))
        if user_id is not None:
            # The page's "New for you (n)" (one user's view; not in the JSON document).
            parts.append(cache.Part("new", scope, {}, section(
                lambda: selectors.new_for_owner_count(user_id=user_id))))
    if users:
        parts.append(_users_part())
    return tuple(parts)


def _rebuild(form):
    return Rebuild(team=form.cleaned_data["user"] is None)


def _users_part():
    return cache.Part("users", cache.USERS_SCOPE, {}, selectors.active_users)


def _active_users(*, bypass):
    return cache.fetch([_users_part()], bypass=bypass).values["users"]


def _validated_query(request):
    """(manager, bypass, form, users): the viewer's flags (`bypass`: the cache
    scopes bypassed) and the query string.

    `users`, the active users a manager may pick, is lazy: the form needs
    it only for a `user` parameter, the page only when the form is in error.
    A non-manager asking for someone else's leads raises
    PermissionDenied.
    """
    manager = user_sees_all_leads(request.user)
    bypass = selectors.viewer_bypassed_scopes(request.user)
    users = SimpleLazyObject(lambda: _active_users(bypass=bypass)) if manager else None
    form = DashboardForm(request.GET, viewer=request.user, active_users=users)
    if form.has_error("user", code="forbidden"):
        raise PermissionDenied("You can only see your own dashboard.")
    return manager, bypass, form, users


def _fetch(request, *, family, form, params, rebuild, sections, compute, bypass, also=()):
    """The cached value of one whole response (`family` "html" or "json") for
    the form's valid query, built by `compute` from the `sections`' values;
    None when the due page does not exist (the form then carries the error).

    The sections may be read from a replica (crm/db_routers.py), unless this
    client wrote within the read-your-writes window; values the cache stores
    are computed on the primary all the same (dashboard/cache/). Sections
    computed in one request share their lead aggregates (`shared_queries`).
    """
    day, user, page = (form.cleaned_data[name] for name in ("date", "user", "page"))
    part = cache.Part(
        family, cache.user_scope(user and user["id"]),
        {"date": day.isoformat(), "page": page, **params}, compute, also=also,
        sections=sections,
    )
    try:
        with use_replica(enabled=not wrote_recently(request)), selectors.shared_queries():
            fetched = cache.fetch([part], bypass=bypass)
    except selectors.DuePageOutOfRange as exc:
        form.add_error("page", str(exc))
        return None
    except selectors.TeamPageOutOfRange as exc:
        form.add_error("team_page", str(exc))
        return None
    request.cache_outcome = fetched.outcome
    rebuild.count(fetched.outcome)
    return fetched.values[family]


def _document(form, sections):
    """The dashboard document from the fetched sections' values."""
    day, user = form.cleaned_data["date"], form.cleaned_data["user"]
    return selectors.dashboard_document(
        day=day, user=user, day_metrics=sections["day"],
        team_performance=sections["team"], due=sections["due"],
    )


def _page_query(form, page, team_page=None):
    """The query string of this view with the due list's `page` (and the team
    table's `team_page`, kept when not the first)."""
    day, user = form.cleaned_data["date"], form.cleaned_data["user"]
    team_page = form.cleaned_data["team_page"] if team_page is None else team_page
    query = {"date": day.isoformat(), **({"user": user["id"]} if user else {}), "page": page,
             **({"team_page": team_page} if team_page != 1 else {})}
    return urlencode(query)


def _team_table(form, data):
    """The team table's page for the HTML page and its pager's query strings
    (the JSON document keeps every row); raises TeamPageOutOfRange."""
    table = selectors.team_table_page(data["team"], page=form.cleaned_data["team_page"])
    page, due_page = table["page"], data["due"]["page"]
    return {
        **table,
        "previous_query": _page_query(form, due_page, page - 1) if page > 1 else None,
        "next_query": _page_query(form, due_page, page + 1) if page < table["pages"] else None,
    }


def _page_context(form, *, manager, users, data=None, trend=None):
    """The template context of the dashboard page; `data` None for a form in error."""
    day = form.cleaned_data.get("date") if form.is_valid() else None
    due = data and data["due"]
    return {
        "form": form,
        # The day shown, or what was typed when it is not a valid day.
        "date_value": day.isoformat() if day else form.data.get("date", ""),
        "data": data,
        "team_table": data and _team_table(form, data),
        "trend": trend,
        "is_manager": manager,
        # A plain list: the menu loops over it, and a lazy proxy costs on every access.
        "active_users": list(users) if manager else None,
        "selected_user_id": _selected_user_id(form),
        "previous_page_query": (_page_query(form, due["page"] - 1)
                                if due and due["page"] > 1 else None),
        "next_page_query": (_page_query(form, due["page"] + 1)
                            if due and due["page"] < due["pages"] else None),
    }


def _render_page(form, sections, *, manager, is_staff):
    """The page for this query and role from the sections' values, cut at its
    per-request slots (dashboard/page_slots.py)."""
    context = _page_context(form, manager=manager, users=sections.get("users"),
                            data=_document(form, sections), trend=sections["charts"])
    context["new_for_you"] = sections.get("new")
    return page_slots.render_with_slots("dashboard/index.html", context, is_staff=is_staff)


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
@cache.tokens_read_once()
def index(request):
    manager, bypass, form, users = _validated_query(request)
    if form.is_valid():
        is_staff = request.user.is_staff
        rebuild = _rebuild(form)
        pieces = _fetch(
            request, family="html", form=form, bypass=bypass, rebuild=rebuild,
            params={"manager": int(manager), "staff": int(is_staff),
                    "team_page": form.cleaned_data["team_page"]},
            # A manager's page lists the active users in its menu.
            also=(cache.USERS_SCOPE,) if manager else (),
            sections=_sections(form, rebuild, charts=True, users=manager),
            compute=lambda sections: _render_page(form, sections, manager=manager,
                                                  is_staff=is_staff),
        )
        if pieces is not None:
            return HttpResponse(page_slots.personalise(pieces, request))
    context = _page_context(form, manager=manager, users=users)
    context["messages_html"] = page_slots.messages_html(request)
    return render(request, "dashboard/index.html", context, status=400)


@require_safe
@cache.tokens_read_once()
def data(request):
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Log in to see the dashboard."}, status=403)
    try:
        _, bypass, form, _ = _validated_query(request)
    except PermissionDenied as exc:
        return JsonResponse({"error": str(exc)}, status=403)
    if form.is_valid():
        rebuild = _rebuild(form)
        body = _fetch(
            request, family="json", form=form, params={}, bypass=bypass, rebuild=rebuild,
            sections=_sections(form, rebuild, charts=False, users=False),
            compute=lambda sections: json.dumps(_document(form, sections),
                                                cls=DjangoJSONEncoder),
        )
        if body is not None:
            return HttpResponse(body, content_type="application/json")
    errors = {field: list(messages) for field, messages in form.errors.items()}
    return JsonResponse({"errors": errors}, status=400)


@require_safe
@login_required
def cache_stats(request):
    """Managers: the dashboard cache's hit rate, now and over the last window,
    the bypasses in force and how Redis treats a full memory."""
    if not user_sees_all_leads(request.user):
        raise PermissionDenied("Only managers can see the cache statistics.")
    current, previous = (cache.cache_stats(window_offset=offset) for offset in (0, 1))
    context = {
        "current": {**current, "view_rows": cache.view_rows(current)},
        "previous": {**previous, "view_rows": cache.view_rows(previous)},
        "threshold_pct": int(100 * cache.HIT_RATE_WARNING),
        "bypasses": cache.active_bypasses(),
        "memory": memory_policy(default_cache),
    }
    return render(request, "dashboard/cache_stats.html", context)
