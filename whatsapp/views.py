"""The WhatsApp picker: GET lists the filled messages, POST records the one
chosen and redirects (303) to wa.me. Nothing is written on GET."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from leads.models import Lead
from whatsapp import selectors, services
from whatsapp.messages import fill, placeholder_values
from whatsapp.models import WhatsAppTemplate


class PickForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=WhatsAppTemplate.objects.all(),
        error_messages={"required": "Choose a message.",
                        "invalid_choice": "That message no longer exists: choose one below."},
    )


def _visible_lead(user, pk):
    try:
        return Lead.objects.visible_to(user).get(pk=pk)
    except Lead.DoesNotExist:
        raise Http404("This lead does not exist or is not yours.") from None


def _choices(lead, user):
    """[(template, filled text or None, error or None)] in the picker's order."""
    values = placeholder_values(lead=lead, sender=user)
    choices = []
    for template in selectors.templates_for_picker(user=user):
        try:
            choices.append((template, fill(template.text, values), None))
        except ValidationError as exc:
            choices.append((template, None, " ".join(exc.messages)))
    return choices


@login_required
@require_http_methods(["GET", "POST"])
def picker(request, pk):
    lead = _visible_lead(request.user, pk)
    error = None
    if request.method == "POST":
        form = PickForm(request.POST)
        if form.is_valid():
            try:
                _, url = services.whatsapp_send_record(
                    lead=lead, user=request.user, template=form.cleaned_data["template"])
            except ValidationError as exc:
                error = ("This message cannot be sent: " + " ".join(exc.messages)
                         + " Ask a manager to fix it in admin.")
            else:
                response = HttpResponseRedirect(url)
                response.status_code = 303
                return response
        else:
            error = form.errors["template"][0]
    return render(request, "whatsapp/picker.html", {
        "lead": lead, "choices": _choices(lead, request.user), "error": error,
    }, status=400 if error else 200)
