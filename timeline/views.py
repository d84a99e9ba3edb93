"""The lead page, /leads/<id>/: the lead's fields, its corrections form and
its timeline. Same visibility as editing: others' leads are a 404."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from leads.forms import LeadCorrectionForm
from leads.models import Lead
from timeline.selectors import MAX_PAGE, lead_timeline


class TimelinePageForm(forms.Form):
    page = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE,
        error_messages={"invalid": "The page must be a whole number.",
                        "min_value": "Pages start at 1.",
                        "max_value": f"The history shows at most {MAX_PAGE:,} pages."},
    )


@login_required
@require_GET
def lead_detail(request, pk):
    try:
        lead = Lead.objects.visible_to(request.user).select_related("creator").get(pk=pk)
    except Lead.DoesNotExist:
        raise Http404("This lead does not exist or is not yours.") from None
    context = {"lead": lead, "correction": LeadCorrectionForm(instance=lead)}
    form = TimelinePageForm(request.GET)
    if not form.is_valid():
        context.update(page_errors=form.errors["page"], events=[], page=1)
        return render(request, "timeline/lead_detail.html", context, status=400)
    page = form.cleaned_data["page"] or 1
    events, has_next = lead_timeline(lead, page=page)
    context.update(events=events, page=page, has_previous=page > 1, has_next=has_next)
    return render(request, "timeline/lead_detail.html", context)
