"""The telecaller pages: my leads, add a lead, edit a lead, quick update."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads import services
from leads.forms import LeadCreateForm, LeadEditForm, LeadListFilterForm, QuickUpdateForm
from leads.models import Lead, LeadStatus
from leads.name_search import planned_from_the_name_index, searches_names
from leads.permissions import user_sees_all_leads
from leads.templatetags.leads_tags import after_save_anchors, lead_card_anchor

LEADS_PER_PAGE = 50
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
    )
    return render(request, "leads/lead_list.html", context)


def _open_duplicates(user, mobile):
    """Other leads, not closed, with this (normalised) mobile; each marked
    whether `user` may open it (the warning names the owner either way)."""
    sees_all = user_sees_all_leads(user)
    duplicates = list(
        Lead.objects.with_mobile(mobile).not_closed()
        .select_related("creator").order_by("-created_at", "-pk")[:5]
    )
    for lead in duplicates:
        lead.openable = sees_all or lead.creator_id == user.pk
    return duplicates


@login_required
@require_http_methods(["GET", "POST"])
def lead_create(request):
    duplicates = []
    if request.method == "POST":
        form = LeadCreateForm(request.POST)
        if form.is_valid():
            duplicates = _open_duplicates(request.user, form.instance.mobile)
            # Warn before saving; the user confirms with "save anyway".
            if not duplicates or form.cleaned_data["save_anyway"]:
                lead = services.lead_create(creator=request.user, **form.lead_data())
                messages.success(request, f"Added {lead.customer_name} ({lead.mobile}).")
                return redirect("leads:list")
    else:
        form = LeadCreateForm()
    return render(request, "leads/lead_form.html", {"form": form, "duplicates": duplicates})


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
        if form.is_valid():
            try:
                services.lead_update(
                    lead=lead,
                    user=request.user,
                    changes=form.changes(),
                    expected_modified_at=form.cleaned_data["modified_token"],
                )
            except Lead.DoesNotExist:
                raise Http404("This lead was deleted a moment ago.") from None
            except ValidationError as exc:
                # Rules the form cannot see (the model's, on the stored row).
                form.add_error(None, exc.messages)
                return render(request, "leads/lead_edit.html",
                              {"form": form, "lead": lead}, status=400)
            except services.LeadChangedError as exc:
                refused = form.cleaned_data
                current = exc.lead
                return render(request, "leads/lead_edit.html", {
                    "form": LeadEditForm(instance=current),
                    "lead": current,
                    "refused": {
                        "status": LeadStatus(refused["status"]).label,
                        "followup_date": refused["followup_date"],
                        "remarks": refused["remarks"],
                    },
                }, status=409)
            messages.success(request, f"Saved {lead.customer_name}.")
            return redirect("leads:list")
    else:
        form = LeadEditForm(instance=lead)
    return render(request, "leads/lead_edit.html", {"form": form, "lead": lead})


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


@login_required
@require_POST
def lead_quick_update(request, pk):
    lead = _lead_or_404(Lead.objects.visible_to(request.user), pk)
    back = _back(request, lead, saved=False)
    form = QuickUpdateForm(request.POST, lead=lead)
    if not form.is_valid():
        messages.error(request, f"{lead.customer_name} not updated. {form.first_error()}")
        return back
    try:
        lead = services.lead_quick_update(
            lead=lead,
            user=request.user,
            status=form.cleaned_data["status"],
            followup_date=form.cleaned_data["followup_date"],
            remark=form.cleaned_data["remark"],
        )
    except Lead.DoesNotExist:
        raise Http404("This lead was deleted a moment ago.") from None
    except ValidationError as exc:
        messages.error(request, f"{lead.customer_name} not updated. {' '.join(exc.messages)}")
        return back
    except services.LeadChangedError:
        messages.error(
            request,
            f"{lead.customer_name} was changed by someone else a moment ago; nothing was "
            "saved. Check the lead and update it again.",
        )
        return back
    followup = (
        f"next follow-up {date_format(timezone.localtime(lead.followup_date), 'DATETIME_FORMAT')}"
        if lead.followup_date else "no follow-up"
    )
    messages.success(
        request, f"Updated {lead.customer_name}: {LeadStatus(lead.status).label}, {followup}."
    )
    return _back(request, lead, saved=True)
