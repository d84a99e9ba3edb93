"""The telecaller pages: my leads, add a lead, edit a lead, quick update."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calls import services as call_services
from calls.forms import CallForm
from calls.rendering import outcome_label
from leads import services
from leads.forms import (
    LeadCorrectionForm,
    LeadCreateForm,
    LeadEditForm,
    LeadListFilterForm,
    QuickUpdateForm,
    first_error,
)
from leads.models import Lead, LeadStatus
from leads.name_search import planned_from_the_name_index, searches_names
from leads.permissions import user_sees_all_leads
from leads.templatetags.leads_tags import after_save_anchors, lead_card_anchor

LEADS_PER_PAGE = 50
NEW_FOR_YOU_SHOWN = 100
# Where a quick update returns when its `next` is missing or unsafe.
DASHBOARD_URL = reverse_lazy("dashboard:index")


@login_required
@require_GET
def lead_list(request):
    sees_all = user_sees_all_leads(request.user)
    form = LeadListFilterForm(request.GET, show_user_filter=sees_all)
    context = {"form": form, "sees_all": sees_all, "leads": [], "page": 1,
               "has_previous": False, "has_next": False}
    if not form.is_valid():
        return render(request, "leads/lead_list.html", context, status=400)
    # Previous/next pages without any COUNT: fetch one row more than a page.
    page = form.cleaned_data["page"] or 1
    offset = (page - 1) * LEADS_PER_PAGE
    leads = form.filter(Lead.objects.visible_to(request.user)).select_related("creator")
    leads = leads[offset:offset + LEADS_PER_PAGE + 1]
    with planned_from_the_name_index(active=searches_names(form.cleaned_data["q"]),
                                     using=leads.db):
        leads = list(leads)
    shown = leads[:LEADS_PER_PAGE]
    for lead, anchor in zip(shown, after_save_anchors([lead.pk for lead in shown]), strict=True):
        lead.after_save_anchor = anchor
    context.update(
        leads=shown,
        page=page,
        has_previous=page > 1,
        has_next=len(leads) > LEADS_PER_PAGE,
        due=form.cleaned_data["due"],
        # The viewer's own "New for you (n)" (a manager's list has the filter
        # only): at most NEW_FOR_YOU_SHOWN ids through the partial index, no COUNT.
        new_for_you=None if sees_all else _new_for_you(request.user),
    )
    return render(request, "leads/lead_list.html", context)


def _new_for_you(user):
    """"3", or "100+" past NEW_FOR_YOU_SHOWN; "" for none."""
    ids = list(Lead.objects.new_for(user).order_by().values_list("pk", flat=True)
               [:NEW_FOR_YOU_SHOWN + 1])
    if len(ids) > NEW_FOR_YOU_SHOWN:
        return f"{NEW_FOR_YOU_SHOWN}+"
    return str(len(ids)) if ids else ""


def _open_duplicates(user, mobile, *, excluding=None):
    """Other leads, not closed, with this (normalised) mobile; each marked
    whether `user` may open it (the warning names the owner either way)."""
    sees_all = user_sees_all_leads(user)
    duplicates = list(
        Lead.objects.with_mobile(mobile).not_closed().exclude(pk=excluding)
        .select_related("creator").order_by("-created_at", "-pk")[:5]
    )
    for lead in duplicates:
        lead.openable = sees_all or lead.creator_id == user.pk
    return duplicates


@login_required
@require_http_methods(["GET", "POST"])
def lead_create(request):
    duplicates = []
    can_pick_owner = user_sees_all_leads(request.user)
    status = 200
    if request.method == "POST":
        form = LeadCreateForm(request.POST, can_pick_owner=can_pick_owner)
        if form.is_valid():
            duplicates = _open_duplicates(request.user, form.instance.mobile)
            # Warn before saving; the user confirms with "save anyway".
            if not duplicates or form.cleaned_data["save_anyway"]:
                owner = form.chosen_owner(request.user)
                lead = services.lead_create(creator=owner, added_by=request.user,
                                            **form.lead_data())
                for_whom = "" if owner == request.user else f" for {owner.get_username()}"
                messages.success(request,
                                 f"Added {lead.customer_name} ({lead.mobile}){for_whom}.")
                return redirect("leads:list")
        elif form.has_error(NON_FIELD_ERRORS, "forged_owner"):
            status = 400
    else:
        form = LeadCreateForm(can_pick_owner=can_pick_owner)
    return render(request, "leads/lead_form.html", {"form": form, "duplicates": duplicates},
                  status=status)


def _lead_or_404(leads, pk):
    try:
        return leads.get(pk=pk)
    except Lead.DoesNotExist:
        raise Http404("This lead does not exist or is not yours.") from None


@login_required
@require_http_methods(["GET", "POST"])
def lead_edit(request, pk):
    lead = _lead_or_404(Lead.objects.visible_to(request.user).select_related("creator"), pk)
    if request.method == "POST":
        form = LeadEditForm(request.POST, instance=lead)
        call_form = CallForm(request.POST)
        if form.is_valid() & call_form.is_valid():
            try:
                services.lead_update(
                    lead=lead,
                    user=request.user,
                    changes=form.changes(),
                    expected_modified_at=form.cleaned_data["modified_token"],
                    remark=form.cleaned_data["remark"],
                    also=call_services.call_recorder(user=request.user, **call_form.call_data())
                    if call_form.call_data()["outcome"] else None,
                )
            except Lead.DoesNotExist:
                raise Http404("This lead was deleted a moment ago.") from None
            except ValidationError as exc:
                # Rules the form cannot see (the model's, on the stored row).
                form.add_error(None, exc.messages)
                return render(request, "leads/lead_edit.html",
                              {"form": form, "call_form": call_form, "lead": lead}, status=400)
            except services.LeadChangedError as exc:
                refused = form.cleaned_data
                current = exc.lead
                return render(request, "leads/lead_edit.html", {
                    "form": LeadEditForm(instance=current),
                    "call_form": call_form,  # not recorded either: kept to save again
                    "lead": current,
                    "refused": {
                        "status": LeadStatus(refused["status"]).label,
                        "followup_date": refused["followup_date"],
                        "remark": refused["remark"],
                    },
                }, status=409)
            messages.success(request, f"Saved {lead.customer_name}.")
            return redirect("leads:list")
    else:
        form, call_form = LeadEditForm(instance=lead), CallForm()
    return render(request, "leads/lead_edit.html",
                  {"form": form, "call_form": call_form, "lead": lead})


@login_required
@require_http_methods(["GET", "POST"])
def lead_correct(request, pk):
    """Correct name, mobile or registration: the owner or a manager (the edit
    page's visibility). Every correction lands in the lead's history."""
    lead = _lead_or_404(Lead.objects.visible_to(request.user).select_related("creator"), pk)
    name = lead.customer_name  # as stored: a bound form changes the instance
    duplicates, status = [], 200
    if request.method == "POST":
        form = LeadCorrectionForm(request.POST, instance=lead)
        if form.is_valid():
            changes = form.changes()
            if "mobile" in changes:
                duplicates = _open_duplicates(request.user, changes["mobile"], excluding=lead.pk)
            if duplicates and not form.cleaned_data["save_anyway"]:
                status = 200
            elif not changes:
                messages.info(request, "Nothing to correct: the values are the same.")
                return redirect("timeline:lead", pk=lead.pk)
            else:
                try:
                    services.lead_update(
                        lead=lead, user=request.user, changes=changes,
                        expected_modified_at=form.cleaned_data["modified_token"],
                    )
                except Lead.DoesNotExist:
                    raise Http404("This lead was deleted a moment ago.") from None
                except ValidationError as exc:
                    form.add_error(None, exc.messages)
                    status = 400
                except services.LeadChangedError as exc:
                    lead, name, status = exc.lead, exc.lead.customer_name, 409
                    form = LeadCorrectionForm(instance=lead)
                else:
                    fields = ", ".join(LeadCorrectionForm.base_fields[name].label.lower()
                                       for name in changes)
                    messages.success(request, f"Corrected the {fields}.")
                    return redirect("timeline:lead", pk=lead.pk)
        else:
            status = 400
    else:
        form = LeadCorrectionForm(instance=lead)
    return render(request, "leads/lead_correct.html",
                  {"form": form, "lead": lead, "name": name, "duplicates": duplicates,
                   "conflict": status == 409}, status=status)


def _next_url(request):
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url.split("#", 1)[0]
    return str(DASHBOARD_URL)


# The id of an element on the page a quick update came from (a card).
_ANCHOR = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


def _back(request, lead, *, saved):
    """The redirect after a quick update: to `next`, keeping the user's place
    in the list without JavaScript. Saved: at `anchor`, the card after this
    one (this one may have left the list); refused: at this lead's card, the
    message above it. Forms that post no anchor come back to the top."""
    url = _next_url(request)
    anchor = request.POST.get("anchor", "")
    if _ANCHOR.fullmatch(anchor):
        url += f"#{anchor}" if saved else f"#{lead_card_anchor(lead.pk)}"
    return HttpResponseRedirect(url)


def _quick_update_refused(request, lead, message):
    """The quick-update form again, as posted, with why it was refused: the
    page says it and keeps what was typed (nothing was saved)."""
    posted = request.POST
    item = {
        "id": lead.pk, "customer_name": lead.customer_name,
        "status": posted.get("status", lead.status),
        "followup_date": posted.get("followup_date", ""),
        "no_followup": bool(posted.get("no_followup")),
        "remark": posted.get("remark", ""),
        "call_input": {"outcome": posted.get("outcome", ""),
                       "duration": posted.get("duration", "")},
        # Saved from this page, the user still lands at the next card.
        "anchor": anchor if _ANCHOR.fullmatch(anchor := posted.get("anchor", "")) else "",
    }
    messages.error(request, message)
    return render(request, "leads/quick_update.html", {
        "lead": lead, "item": item, "next_url": _next_url(request),
        "back_url": _back(request, lead, saved=False).url,
    }, status=400)


@login_required
@require_POST
def lead_quick_update(request, pk):
    # One transaction, the lead read once and locked: the form is checked
    # against the row the update writes, so no one can change it in between.
    with transaction.atomic():
        lead = _lead_or_404(Lead.objects.visible_to(request.user).select_for_update(), pk)
        form = QuickUpdateForm(request.POST, lead=lead)
        call_form = CallForm(request.POST, with_note=False)  # the remark is the call's note
        # Both validated, so the page names every problem at once.
        if not (form.is_valid() & call_form.is_valid()):
            first = form if form.errors else call_form
            refused = f"{lead.customer_name} not updated. {first_error(first)}"
        else:
            try:
                lead, call = call_services.call_record_with_update(
                    lead=lead,
                    user=request.user,
                    status=form.cleaned_data["status"],
                    followup_date=form.cleaned_data["followup_date"],
                    remark=form.cleaned_data["remark"],
                    locked=True,
                    **call_form.call_data(),
                )
                refused = None
            except ValidationError as exc:
                transaction.set_rollback(True)
                refused = f"{lead.customer_name} not updated. {' '.join(exc.messages)}"
            except services.LeadChangedError:
                # Where the lock is a no-op (SQLite) a write may still come between.
                transaction.set_rollback(True)
                refused = (f"{lead.customer_name} was changed by someone else a moment ago; "
                           "nothing was saved. Check the lead and update it again.")
    if refused:
        return _quick_update_refused(request, lead, refused)
    followup = (
        f"next follow-up {date_format(timezone.localtime(lead.followup_date), 'DATETIME_FORMAT')}"
        if lead.followup_date else "no follow-up"
    )
    called = f"{outcome_label(call.outcome)} call recorded; " if call else ""
    messages.success(
        request,
        f"Updated {lead.customer_name}: {called}{LeadStatus(lead.status).label}, {followup}.",
    )
    return _back(request, lead, saved=True)
