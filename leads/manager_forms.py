"""Forms of the managers' pages: hand-over and bulk reschedule."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef

from leads.distribution import LEAST_LOADED, ONE_USER, ROUND_ROBIN
from leads.forms import followup_field
from leads.models import FIRST_DAY, LAST_DAY, Lead
from leads.people import lead_owners

HAND_OVER_RULES = [(ONE_USER, "One colleague"), (ROUND_ROBIN, "Round-robin"),
                   (LEAST_LOADED, "Least-loaded (fewest open leads due within 7 days)")]
# Leads a reschedule may name one by one (the admin action's selection).
MAX_SELECTED_LEADS = 1000


def id_from_query(value, *, digits=9):
    """A positive id from a query-string value, or None: a crafted value (not
    digits, or long enough to overflow the column) is simply no selection."""
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) <= digits else None


def users_with_open_leads():
    """Users (active or not) who own leads that are not closed, by username."""
    return (get_user_model().objects
            .filter(Exists(Lead.objects.not_closed().filter(creator=OuterRef("pk"))))
            .order_by("username"))


class HandOverForm(forms.Form):
    from_user = forms.ModelChoiceField(
        queryset=users_with_open_leads(), label="Hand over the open leads of",
        error_messages={"invalid_choice": "This user owns no open leads.",
                        "required": "Choose whose leads to hand over."})
    rule = forms.ChoiceField(choices=HAND_OVER_RULES, initial=ONE_USER, label="Rule")
    to_users = forms.ModelMultipleChoiceField(
        queryset=lead_owners(), widget=forms.CheckboxSelectMultiple, label="To",
        error_messages={"required": "Choose who receives the leads.",
                        "invalid_choice": "%(value)s cannot own leads (inactive, or not in "
                                          "the Telecallers group).",
                        "invalid_pk_value": "Choose people from the list."})

    def clean(self):
        cleaned = super().clean()
        receivers, giver = cleaned.get("to_users"), cleaned.get("from_user")
        if receivers is not None and giver is not None:
            receivers = [user for user in receivers if user.pk != giver.pk]
            if not receivers:
                self.add_error("to_users", f"Choose someone other than {giver.get_username()}.")
            elif cleaned.get("rule") == ONE_USER and len(receivers) != 1:
                self.add_error("to_users", "“One colleague” gives every lead to one person: "
                                           "choose one, or spread them by a rule.")
        return cleaned


class RescheduleForm(forms.Form):
    lead = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=(),
                                          widget=forms.MultipleHiddenInput)
    owner = forms.ModelChoiceField(
        queryset=users_with_open_leads(), required=False,
        label="Or all overdue leads of",
        error_messages={"invalid_choice": "This user owns no open leads."})
    how = forms.ChoiceField(choices=[("one", "All to one date and time"),
                                     ("spread", "Spread N a day over working days")],
                            initial="one", widget=forms.RadioSelect, label="How")
    to = followup_field(label="New follow-up (one date)")
    start = forms.DateField(required=False, label="Spread from",
                            widget=forms.DateInput(attrs={"type": "date"}),
                            error_messages={"invalid": "Enter a date as YYYY-MM-DD."})
    per_day = forms.IntegerField(required=False, min_value=1, max_value=10_000,
                                 label="Leads a day")
    at_time = forms.TimeField(required=False, label="At",
                              widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                              error_messages={"invalid": "Enter a time as HH:MM."})
    include_sundays = forms.BooleanField(required=False, label="Include Sundays")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # (At most 18 digits: a crafted id never overflows a bigint column.)
        self.fields["lead"].valid_value = lambda value: (str(value).isdigit()
                                                         and len(str(value)) <= 18)

    def clean_lead(self):
        ids = self.cleaned_data["lead"]
        if len(ids) > MAX_SELECTED_LEADS:
            raise forms.ValidationError(
                f"Select at most {MAX_SELECTED_LEADS:,} leads, or reschedule a user's overdue "
                "leads.")
        return ids

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("lead")) == bool(cleaned.get("owner")):
            raise forms.ValidationError(
                "Reschedule either the selected leads or one user's overdue leads.")
        if cleaned.get("how") == "one" and not cleaned.get("to") and "to" not in self.errors:
            self.add_error("to", "Choose the new follow-up.")
        if cleaned.get("how") == "spread":
            if not cleaned.get("start") and "start" not in self.errors:
                self.add_error("start", "Choose the day to start from.")
            elif cleaned.get("start") and not FIRST_DAY <= cleaned["start"] <= LAST_DAY:
                self.add_error("start", f"Choose a day between {FIRST_DAY} and {LAST_DAY}.")
            if not cleaned.get("per_day") and "per_day" not in self.errors:
                self.add_error("per_day", "How many leads a day?")
        return cleaned
