"""The dashboard benchmark: the pre-optimisation baseline, and the harness
that times it against the product's cold and warm paths.

The baseline re-creates how the old app built the manager dashboard (one
query per user and per number, the day's leads loaded into a list, the
follow-up snapshot looked up user by user). It exists only here, to be
measured; it must compute the same numbers as the product (a test checks).
"""

import functools
import json
import math
import re
import statistics
import time
import tracemalloc
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calls.models import ANSWERED_OUTCOMES, CallLog
from dashboard import selectors
from dashboard.cache import invalidate_dashboard
from leads.models import (
    CLOSED_STATUSES,
    FOLLOWUP_WORK_KINDS,
    FollowupSnapshot,
    Lead,
    LeadStatus,
    WorkedLead,
    day_bounds,
)
from timeline.benchmark import lead_with_history
from timeline.selectors import lead_timeline

SQLITE_MAX_LEADS = 100_000


# --- the baseline ------------------------------------------------------------

def _pct(numerator, denominator):
    return selectors._percentage(numerator, denominator)


def _baseline_left_day(leads, *, day, start, end):
    """Leads of `leads` worked away from `day` (see selectors._day_rows), row by row."""
    left = set()
    worked = WorkedLead.objects.filter(
        lead__in=leads, work_date=day, kind__in=FOLLOWUP_WORK_KINDS
    ).select_related("lead")
    for row in worked:
        lead, old = row.lead, row.old_followup_date
        pending_now = (lead.status not in CLOSED_STATUSES and lead.followup_date is not None
                       and start <= lead.followup_date < end)
        if old is not None and start <= old < end and not pending_now:
            left.add(lead.pk)
    return len(left)


def _baseline_overdue(leads, *, day):
    by_age = {}
    for key, youngest, oldest in selectors.OVERDUE_AGES:
        until = day_bounds(day - timedelta(days=youngest - 1))[0]
        overdue = leads.filter(followup_date__lt=until)
        if oldest is not None:
            overdue = overdue.filter(followup_date__gte=day_bounds(day - timedelta(days=oldest))[0])
        by_age[key] = overdue.count()
    return {"total": sum(by_age.values()), "by_age": by_age}


def baseline_document(*, day, user=None, page=1):
    """The dashboard document the old way. `user`: None (team) or a User."""
    start, end = day_bounds(day)
    User = get_user_model()
    if user is None:
        scope = Lead.objects.all()
        users = list(User.objects.filter(is_active=True).order_by("username"))
        users = [u for u in users if Lead.objects.filter(creator=u).exists()]
    else:
        scope = Lead.objects.filter(creator=user)
        users = [user]

    total = scope.count()
    with_followup = scope.exclude(followup_date=None).count()
    status_counts = {status: scope.filter(status=status).count() for status in LeadStatus.values}

    team = []
    for member in users:
        mine = Lead.objects.filter(creator=member)
        mine_open = mine.exclude(status__in=CLOSED_STATUSES)
        pending = mine_open.filter(followup_date__gte=start, followup_date__lt=end).count()
        snapshot = FollowupSnapshot.objects.filter(user=member, date=day).first()
        initial = (snapshot.initial_count if snapshot
                   else pending + _baseline_left_day(mine, day=day, start=start, end=end))
        worked = max(0, initial - pending)
        team.append({
            "user_id": member.pk,
            "username": member.username,
            "initial": initial,
            "worked": worked,
            "pending": pending,
            "completion_pct": _pct(worked, initial),
            "new_leads": mine.filter(created_at__gte=start, created_at__lt=end).count(),
            "confirmed": mine.filter(status=LeadStatus.CONFIRMED).count(),
            "completed": mine.filter(status=LeadStatus.COMPLETED).count(),
            "overdue": _baseline_overdue(mine_open, day=day)["total"],
            "unscheduled": mine_open.filter(followup_date=None).count(),
            "from_snapshot": snapshot is not None,
            "calls": baseline_calls_made(CallLog.objects.filter(user=member), start=start, end=end),
        })
    team.sort(key=lambda row: (-row["completion_pct"], -row["initial"], row["username"]))

    scope_open = scope.exclude(status__in=CLOSED_STATUSES)
    due_leads = list(scope_open.filter(followup_date__gte=start, followup_date__lt=end)
                     .order_by("followup_date", "id"))
    pages = max(1, math.ceil(len(due_leads) / selectors.DUE_PAGE_SIZE))
    chunk = due_leads[(page - 1) * selectors.DUE_PAGE_SIZE: page * selectors.DUE_PAGE_SIZE]
    items = [{
        "id": lead.pk,
        "customer_name": lead.customer_name,
        "mobile": lead.mobile,
        "car_registration": lead.car_registration,
        "status": lead.status,
        "followup_date": timezone.localtime(lead.followup_date).isoformat(),
        "creator_id": lead.creator_id,
        "creator_username": lead.creator.username,
        "calls": baseline_call_attempts(lead),
    } for lead in chunk]

    initial = sum(row["initial"] for row in team)
    pending = len(due_leads)
    worked = max(0, initial - pending)
    return {
        "date": day.isoformat(),
        "user": None if user is None else {"id": user.pk, "username": user.username},
        "snapshot_taken": all(row["from_snapshot"] for row in team),
        "totals": {"leads": total,
                   "new_leads": scope.filter(created_at__gte=start, created_at__lt=end).count(),
                   "with_followup_pct": _pct(with_followup, total)},
        "status_counts": status_counts,
        "overdue": _baseline_overdue(scope_open, day=day),
        "unscheduled": scope_open.filter(followup_date=None).count(),
        "calls": baseline_calls_made(
            CallLog.objects.all() if user is None else CallLog.objects.filter(user=user),
            start=start, end=end),
        "followups": {"initial": initial, "worked": worked, "pending": pending,
                      "completion_pct": _pct(worked, initial)},
        "team": team,
        "due": {"total": pending, "page": page, "pages": pages, "items": items},
    }


def baseline_calls_made(calls, *, start, end):
    """The calls part of a scope the old way: the day's calls loaded into a list."""
    made = list(calls.filter(called_at__gte=start, called_at__lt=end))
    connected = sum(1 for call in made if call.outcome in ANSWERED_OUTCOMES)
    return {"attempts": len(made), "connected": connected,
            "connect_pct": _pct(connected, len(made))}


def baseline_call_attempts(lead):
    """A due card's attempts the old way: a count and a lookup per lead."""
    last = CallLog.objects.filter(lead=lead).order_by("-called_at", "-pk").first()
    return {"attempts": CallLog.objects.filter(lead=lead).count(),
            "last_outcome": last and last.outcome,
            "last_called_at": last and timezone.localtime(last.called_at).isoformat()}


# --- measuring -----------------------------------------------------------------

def _summary(samples, statements):
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return {"median_ms": round(1000 * statistics.median(ordered), 2),
            "p95_ms": round(1000 * p95, 2),
            "statements": statements, "runs": len(ordered)}


@contextmanager
def _captured():
    with CaptureQueriesContext(connection) as captured:
        yield captured


_SERVER_TOTAL = re.compile(r"total;dur=([0-9.]+)")


def measure(func, *, repeat, before=None):
    """Run func `repeat` times, then once more to count its statements; return
    the timing summary and that count.

    When func returns a response carrying Server-Timing, the sample is the
    server's own `total` (the outermost middleware's time: the request as a
    WSGI server would time it, without the test client's work around it);
    otherwise the wall time of the call. The timed runs are not captured:
    capturing wraps every statement in Django's debug cursor (the SQL
    formatted and logged), which production never runs and which cost a
    cold dashboard 1.5-3 ms.
    """
    samples = []
    for _ in range(repeat):
        if before:
            before()
        started = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - started
        server = _SERVER_TOTAL.search(getattr(result, "headers", {}).get("Server-Timing", ""))
        samples.append(float(server.group(1)) / 1000 if server else elapsed)
    if before:
        before()
    with _captured() as captured:
        func()
    return _summary(samples, len(captured))


def sequential_pass_seconds(repeat=3):
    """U: one sequential pass over the lead table that no index can serve."""
    samples = []
    with connection.cursor() as cursor:
        for _ in range(repeat):
            started = time.perf_counter()
            cursor.execute("SELECT count(*) FROM leads_lead WHERE customer_name <> ''")
            cursor.fetchone()
            samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _client_for(user):
    client = Client()
    client.force_login(user)
    return client


def _get(client, url, params):
    # secure=True: with DEBUG off the production settings redirect plain HTTP.
    response = client.get(url, params, secure=True)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} {params} answered {response.status_code}")
    return response


def run(*, manager, telecaller, staff, day, repeat, baseline_repeat, search_mobile, log=print):
    """Measure everything; return the figures as a dict."""
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    data_url = reverse("dashboard:data")
    index_url = reverse("dashboard:index")
    params = {"date": day.isoformat()}
    every_owner = list(Lead.objects.order_by().values_list("creator_id", flat=True).distinct())

    def cold_reset():
        invalidate_dashboard(user_ids=every_owner, team=True, users_list=True)

    unit = sequential_pass_seconds()
    log(f"U (one sequential pass): {1000 * unit:.1f} ms")
    figures = {"unit_ms": round(1000 * unit, 2), "views": {}}
    for label, viewer in (("manager", manager), ("telecaller", telecaller)):
        log(f"{label}: baseline, cold and warm …")
        figures["views"][label] = _view_figures(
            client=_client_for(viewer), viewer_user=None if label == "manager" else viewer,
            day=day, params=params, urls=(index_url, data_url), repeat=repeat,
            baseline_repeat=baseline_repeat, cold_reset=cold_reset, unit_ms=figures["unit_ms"],
        )

    staff_client = _client_for(staff)
    changelist = reverse("admin:leads_lead_changelist")
    pages = {
        "admin changelist": (changelist, {}),
        "admin, status filter": (changelist, {"status__exact": "confirmed"}),
        "admin, formatted mobile": (changelist, {"q": search_mobile}),
        "/leads/?q= (mobile)": (reverse("leads:list"), {"q": search_mobile}),
    }
    lead, events = lead_with_history()
    log(f"lead page: lead {lead.pk} with {events:,} events")
    pages[f"lead page, {events:,} events"] = (reverse("timeline:lead", args=[lead.pk]), {})
    figures["pages"] = {}
    for label, (url, query) in pages.items():
        request = functools.partial(_get, staff_client, url, query)
        request()
        result = measure(request, repeat=repeat)
        result["over_unit"] = round(result["median_ms"] / figures["unit_ms"], 3)
        figures["pages"][label] = result
    # The timeline alone: its queries (one per kind) and the merge, no page.
    result = measure(functools.partial(lead_timeline, lead, page=1), repeat=repeat)
    result["over_unit"] = round(result["median_ms"] / figures["unit_ms"], 3)
    figures["pages"]["lead timeline, first page"] = result
    return figures


def _view_figures(*, client, viewer_user, day, params, urls, repeat, baseline_repeat,
                  cold_reset, unit_ms):
    """Baseline (unless baseline_repeat is 0), cold and warm figures (page and
    JSON) and the peak memory of a cold request, for one viewer."""
    index_url, data_url = urls
    page = functools.partial(_get, client, index_url, params)
    document = functools.partial(_get, client, data_url, params)
    baseline = None
    if baseline_repeat:
        baseline = measure(functools.partial(baseline_document, day=day, user=viewer_user),
                           repeat=baseline_repeat)
    cold = measure(page, repeat=repeat, before=cold_reset)
    cold_json = measure(document, repeat=repeat, before=cold_reset)
    cold_peak_kib = cold_request_peak_kib(page, cold_reset=cold_reset)
    cold_json_peak_kib = cold_request_peak_kib(document, cold_reset=cold_reset)
    page()
    warm = measure(page, repeat=repeat)
    document()
    warm_json = measure(document, repeat=repeat)
    figures = {
        "cold": cold, "cold_json": cold_json, "warm": warm, "warm_json": warm_json,
        "cold_peak_kib": cold_peak_kib, "cold_json_peak_kib": cold_json_peak_kib,
        "cold_over_warm": round(cold["median_ms"] / warm["median_ms"], 1),
        "cold_over_unit": round(cold["median_ms"] / unit_ms, 3),
        "warm_over_unit": round(warm["median_ms"] / unit_ms, 3),
    }
    if baseline is not None:
        figures.update(
            baseline=baseline,
            baseline_over_cold=round(baseline["median_ms"] / cold["median_ms"], 1),
            baseline_over_cold_json=round(baseline["median_ms"] / cold_json["median_ms"], 1),
        )
    return figures


def cold_request_peak_kib(request, *, cold_reset):
    """The peak Python memory (tracemalloc, KiB) of one request made cold:
    what it allocates on top of what the process held before, so a request
    that loaded rows in proportion to the table would show it here."""
    cold_reset()
    tracemalloc.start()
    try:
        request()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return round(peak / 1024)


def format_table(figures, *, leads, users, vendor):
    lines = [f"Dashboard benchmark: {leads:,} leads, {users} users, {vendor}; "
             f"U = {figures['unit_ms']:.1f} ms (one sequential pass)", ""]
    header = (f"{'view':<12} {'path':<10} {'median ms':>10} {'p95 ms':>9} {'stmts':>6} "
              f"{'runs':>5} {'× U':>7}")
    lines += [header, "-" * len(header)]
    for label, view in figures["views"].items():
        for path in ("baseline", "cold", "cold_json", "warm", "warm_json"):
            if path not in view:
                continue
            row = view[path]
            lines.append(f"{label:<12} {path:<10} {row['median_ms']:>10.2f} {row['p95_ms']:>9.2f} "
                         f"{row['statements']:>6} {row['runs']:>5} "
                         f"{row['median_ms'] / figures['unit_ms']:>7.3f}")
        ratios = f"cold/warm = {view['cold_over_warm']}"
        if "baseline" in view:
            ratios = (f"baseline/cold = {view['baseline_over_cold']} (JSON "
                      f"{view['baseline_over_cold_json']}), {ratios}")
        lines.append(f"{'':<12} {ratios}; peak memory of one cold request: "
                     f"page {view['cold_peak_kib']:,} KiB, JSON {view['cold_json_peak_kib']:,} KiB")
    lines += ["", f"{'page (staff)':<28} {'median ms':>10} {'p95 ms':>9} {'stmts':>6} {'× U':>7}"]
    for label, row in figures["pages"].items():
        lines.append(f"{label:<28} {row['median_ms']:>10.2f} {row['p95_ms']:>9.2f} "
                     f"{row['statements']:>6} {row['over_unit']:>7.3f}")
    return "\n".join(lines)


def format_curve(runs, *, vendor):
    """One table over data sets: `runs` is [(leads, users, figures)]. Times
    are medians in ms with × U in brackets; stmts and peak memory (KiB, one
    cold request) are the cold page's, manager / telecaller."""
    lines = [f"Dashboard curve ({vendor}): cold and warm medians in ms (× U); stmts and "
             "peak KiB of one cold page request, manager / telecaller", ""]
    header = (f"{'leads':>11} {'users':>5} {'U ms':>7} | {'mgr cold':>14} {'mgr JSON':>14} "
              f"{'mgr warm':>14} | {'tc cold':>14} {'tc JSON':>14} {'tc warm':>14} | "
              f"{'stmts':>5} | {'peak KiB':>13}")
    lines += [header, "-" * len(header)]
    for leads, users, figures in runs:
        unit = figures["unit_ms"]
        manager, telecaller = figures["views"]["manager"], figures["views"]["telecaller"]

        def cell(view, path, unit=unit):
            median = view[path]["median_ms"]
            return f"{median:.1f} ({median / unit:.2f})"

        lines.append(
            f"{leads:>11,} {users:>5} {unit:>7.1f} | {cell(manager, 'cold'):>14} "
            f"{cell(manager, 'cold_json'):>14} {cell(manager, 'warm'):>14} | "
            f"{cell(telecaller, 'cold'):>14} {cell(telecaller, 'cold_json'):>14} "
            f"{cell(telecaller, 'warm'):>14} | "
            f"{manager['cold']['statements']:>2}/{telecaller['cold']['statements']:<2} | "
            f"{manager['cold_peak_kib']:>6,}/{telecaller['cold_peak_kib']:<6,}"
        )
    return "\n".join(lines)


def write_json(path, figures, **meta):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({**meta, **figures}, handle, indent=2)
