"""The unassigned queue page, /leads/unassigned/ (managers only)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from intake.assignment import DistributionError, assign_entries, entries_reject
from intake.queue_forms import AssignForm, QueueFilterForm, RejectForm
from leads.permissions import user_sees_all_leads

ENTRIES_PER_PAGE = 50


def _managers_only(request):
    if not user_sees_all_leads(request.user):
        raise PermissionDenied("Only managers can see the unassigned queue.")


def _back(filters):
    query = filters.query()
    url = reverse("intake_queue:unassigned")
    return redirect(f"{url}?{urlencode(query)}" if query else url)


def _assigned_message(result, users):
    names = {user.pk: user.get_username() for user in users}
    parts = [f"Assigned {result.assigned:,} lead{'s' if result.assigned != 1 else ''}"]
    if result.per_user:
        parts[0] += ": " + ", ".join(f"{names.get(pk, pk)} {count:,}"
                                     for pk, count in sorted(result.per_user.items(),
                                                             key=lambda i: str(names.get(i[0]))))
    parts[0] += "."
    if result.left_waiting:
        parts.append(f"{result.left_waiting:,} stay waiting: everyone chosen reached the daily "
                     "cap.")
    if result.already_decided:
        parts.append(f"{result.already_decided:,} were assigned or rejected by someone else "
                     "meanwhile.")
    if result.skipped_users:
        parts.append(f"Skipped (cannot own leads): {', '.join(result.skipped_users)}.")
    return " ".join(parts)


def _post(request, filters):
    action = request.POST.get("action")
    form = {"assign": AssignForm, "reject": RejectForm}[action](request.POST)
    if not form.is_valid():
        return form, None
    entries = form.selected(filters.entries())
    if action == "reject":
        rejected = entries_reject(entries, reason=form.cleaned_data["reason"],
                                  by_user=request.user)
        messages.success(request, f"Rejected {rejected:,} entr{'ies' if rejected != 1 else 'y'}.")
        return form, True
    users = list(form.cleaned_data["users"])
    try:
        result = assign_entries(entries, form.cleaned_data["rule"], users=users,
                                by_user=request.user, daily_cap=form.cleaned_data["daily_cap"])
    except DistributionError as exc:
        form.add_error(None, str(exc))
        return form, None
    level = messages.success if result.assigned else messages.warning
    level(request, _assigned_message(result, users))
    return form, True


@login_required
@require_http_methods(["GET", "POST"])
def unassigned(request):
    _managers_only(request)
    source = request.POST if request.method == "POST" else request.GET
    filters = QueueFilterForm(source)
    context = {"filters": filters, "assign_form": AssignForm(), "reject_form": RejectForm(),
               "entries": [], "counts": None}
    status = 200
    if filters.is_valid():
        if request.method == "POST":
            if request.POST.get("action") not in ("assign", "reject"):
                return HttpResponseBadRequest("Choose “Assign” or “Reject”.")
            form, done = _post(request, filters)
            if done:
                return _back(filters)
            status = 400
            context["assign_form" if isinstance(form, AssignForm) else "reject_form"] = form
        matching = filters.entries()
        page = filters.cleaned_data["page"] or 1
        offset = (page - 1) * ENTRIES_PER_PAGE
        rows = list(matching.select_related("batch")[offset:offset + ENTRIES_PER_PAGE + 1])
        context.update(
            entries=rows[:ENTRIES_PER_PAGE], page=page, has_previous=page > 1,
            has_next=len(rows) > ENTRIES_PER_PAGE,
            counts=matching.order_by().aggregate(
                waiting=Count("pk"),
                duplicates=Count("pk", filter=Q(duplicate_of_lead__isnull=False)
                                 | Q(duplicate_of_entry__isnull=False)),
            ),
            query=urlencode(filters.query()),
        )
    else:
        status = 400
    return render(request, "intake/unassigned.html", context, status=status)
