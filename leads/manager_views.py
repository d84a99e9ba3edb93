"""The managers' pages: hand-over (/leads/hand-over/) and bulk reschedule
(/leads/reschedule/). Anyone else gets a 403 in the layout."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from leads.distribution import DistributionError
from leads.manager_forms import (
    MAX_SELECTED_LEADS,
    HandOverForm,
    RescheduleForm,
    id_from_query,
)
from leads.models import Lead
from leads.ownership import leads_hand_over
from leads.permissions import user_sees_all_leads
from leads.rescheduling import RescheduleError, leads_reschedule


def _managers_only(request, what):
    if not user_sees_all_leads(request.user):
        raise PermissionDenied(f"Only managers can {what}.")


@login_required
@require_http_methods(["GET", "POST"])
def hand_over(request):
    _managers_only(request, "hand leads over")
    status = 200
    if request.method == "POST":
        form = HandOverForm(request.POST)
        if form.is_valid():
            giver = form.cleaned_data["from_user"]
            try:
                result = leads_hand_over(
                    from_user=giver, to_users=list(form.cleaned_data["to_users"]),
                    rule=form.cleaned_data["rule"], changed_by=request.user)
            except DistributionError as exc:
                form.add_error(None, str(exc))
            else:
                received = ", ".join(f"{name} {n:,}" for name, n in result.received.items())
                messages.success(request, f"Handed over {result.handed_over:,} open lead"
                                          f"{'s' if result.handed_over != 1 else ''} of "
                                          f"{giver.get_username()}"
                                          f"{': ' + received if received else ''}.")
                return redirect("leads:hand_over")
        status = 400
    else:
        form = HandOverForm(initial={"from_user": request.GET.get("from_user")})
    giver_id = id_from_query(str(form["from_user"].value() or ""))
    open_count = None
    if giver_id is not None:
        open_count = Lead.objects.filter(creator_id=giver_id).not_closed().count()
    return render(request, "leads/hand_over.html", {"form": form, "open_count": open_count},
                  status=status)


def _selection(form):
    data = form.cleaned_data
    if data["lead"]:
        return Lead.objects.filter(pk__in=data["lead"])
    return Lead.objects.owned_by(data["owner"]).overdue_on(timezone.localdate())


@login_required
@require_http_methods(["GET", "POST"])
def reschedule(request):
    _managers_only(request, "reschedule leads in bulk")
    status = 200
    selected = None
    if request.method == "POST":
        form = RescheduleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            spread = data["how"] == "spread"
            try:
                moved = leads_reschedule(
                    leads=_selection(form), by_user=request.user,
                    to=None if spread else data["to"],
                    start=data["start"] if spread else None,
                    per_day=data["per_day"], at_time=data["at_time"],
                    skip_sundays=not data["include_sundays"])
            except RescheduleError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Rescheduled {moved:,} lead"
                                          f"{'s' if moved != 1 else ''}.")
                return redirect("leads:reschedule")
        status = 400
    else:
        # The selection comes in the query string (the admin action, a link):
        # shown with how many open leads it holds, nothing validated yet.
        lead_ids = [pk for pk in (id_from_query(v, digits=18)
                                  for v in request.GET.getlist("lead")[:MAX_SELECTED_LEADS])
                    if pk is not None]
        owner = id_from_query(request.GET.get("owner"))
        form = RescheduleForm(initial={"lead": lead_ids, "owner": owner})
        if lead_ids:
            selected = Lead.objects.filter(pk__in=lead_ids).not_closed().count()
        elif owner is not None:
            selected = (Lead.objects.filter(creator_id=owner)
                        .overdue_on(timezone.localdate()).count())
    return render(request, "leads/reschedule.html", {"form": form, "selected": selected},
                  status=status)
