"""Forms of the unassigned queue page (/leads/unassigned/)."""

from django import forms

from intake.models import IntakeEntry
from leads.distribution import LEAST_LOADED, ONE_USER, ROUND_ROBIN
from leads.models import day_bounds
from leads.people import lead_owners

RULE_CHOICES = [(ONE_USER, "One user"), (ROUND_ROBIN, "Round-robin"),
                (LEAST_LOADED, "Least-loaded (fewest open leads due within 7 days)")]
MAX_REASON_CHARS = 500


class QueueFilterForm(forms.Form):
    """The filters, from the query string on GET and hidden fields on POST
    (so "all matching" means what the manager saw)."""

    source = forms.CharField(required=False, max_length=100, label="Source")
    service_type = forms.CharField(required=False, max_length=100, label="Service type")
    received_from = forms.DateField(required=False, label="Received from",
                                    widget=forms.DateInput(attrs={"type": "date"}),
                                    error_messages={"invalid": "Enter a date as YYYY-MM-DD."})
    received_to = forms.DateField(required=False, label="Received to",
                                  widget=forms.DateInput(attrs={"type": "date"}),
                                  error_messages={"invalid": "Enter a date as YYYY-MM-DD."})
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000,
                              widget=forms.HiddenInput,
                              error_messages={"invalid": "The page must be a whole number."})

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("received_from"), cleaned.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", "The end date is before the start date.")
        return cleaned

    def entries(self):
        """The waiting entries matching the filters, oldest first."""
        data = self.cleaned_data
        entries = IntakeEntry.objects.waiting()
        if data["source"]:
            entries = entries.filter(source=data["source"].strip())
        if data["service_type"]:
            entries = entries.filter(service_type=data["service_type"].strip())
        if data["received_from"]:
            entries = entries.filter(received_at__gte=day_bounds(data["received_from"])[0])
        if data["received_to"]:
            entries = entries.filter(received_at__lt=day_bounds(data["received_to"])[1])
        return entries.order_by("received_at", "pk")

    def query(self):
        """The filters as query-string pairs (for links and the POST's hidden copy)."""
        return {name: value for name, value in self.data.items()
                if name in ("source", "service_type", "received_from", "received_to")
                and value}


class SelectionForm(forms.Form):
    scope = forms.ChoiceField(choices=[("selected", "The rows ticked"),
                                       ("all", "All matching the filters")],
                              initial="selected", label="Which entries")
    entry = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Ids are checked against the waiting entries when they are used.
        # (At most 18 digits: a crafted id never overflows a bigint column.)
        self.fields["entry"].valid_value = lambda value: (str(value).isdigit()
                                                          and len(str(value)) <= 18)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == "selected" and not cleaned.get("entry"):
            raise forms.ValidationError(
                "Tick at least one entry, or choose “All matching the filters”.")
        return cleaned

    def selected(self, matching):
        """The entries to act on, from `matching` (the filtered waiting ones)."""
        if self.cleaned_data["scope"] == "all":
            return matching
        return matching.filter(pk__in=self.cleaned_data["entry"])


class AssignForm(SelectionForm):
    rule = forms.ChoiceField(choices=RULE_CHOICES, initial=ROUND_ROBIN, label="Rule",
                             error_messages={"invalid_choice": "Choose one user, round-robin "
                                                               "or least-loaded."})
    users = forms.ModelMultipleChoiceField(
        queryset=lead_owners(), widget=forms.CheckboxSelectMultiple, label="To",
        error_messages={"required": "Choose who receives the leads.",
                        "invalid_choice": "%(value)s cannot own leads (inactive, or not in "
                                          "the Telecallers group).",
                        "invalid_pk_value": "Choose people from the list."},
    )
    daily_cap = forms.IntegerField(required=False, min_value=1, max_value=10_000,
                                   label="Daily cap per user",
                                   help_text="Leads they received today count; the rest "
                                             "stay waiting.")

    def clean(self):
        cleaned = super().clean()
        users = cleaned.get("users")
        if cleaned.get("rule") == ONE_USER and users is not None and len(users) != 1:
            self.add_error("users", "“One user” gives every lead to one person: choose one.")
        return cleaned


class RejectForm(SelectionForm):
    reason = forms.CharField(max_length=MAX_REASON_CHARS, label="Reason",
                             widget=forms.TextInput(attrs={"placeholder": "duplicate"}),
                             error_messages={"required": "Give the reason for rejecting."})
