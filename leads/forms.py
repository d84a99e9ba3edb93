"""Forms of the telecaller pages. Field rules (mobile, registration, status)
come from the model, so these agree with admin."""

from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

from leads.models import (
    CLOSED_STATUSES,
    DUE_QUEUES,
    LEAD_TAG_MAX_CHARS,
    Lead,
    LeadStatus,
    validate_followup_range,
    validate_remark,
)
from leads.people import lead_owners

# What <input type="datetime-local"> sends and expects (minutes, local time).
DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
FOLLOWUP_HELP = f"Date and time in {settings.TIME_ZONE} time."
LOST_NEEDS_A_REASON = "Give the reason the lead is lost."
NEXT_STEP_NEEDED = "Set the next follow-up or close the lead."
NO_FOLLOWUP_LABEL = "No follow-up for now"
FORGED_OWNER = "Only managers can add a lead for someone else: the lead was not saved."
# The shortcuts next to the follow-up field, value -> (label, offset from now).
# Plain offsets: no business hours or holidays (docs/leads.md).
FOLLOWUP_SHORTCUTS = {
    "2h": ("in 2 hours", timedelta(hours=2)),
    "tomorrow": ("tomorrow", timedelta(days=1)),
    "3d": ("in 3 days", timedelta(days=3)),
    "week": ("next week", timedelta(days=7)),
}


def _marks_lost(status, stored_status):
    """Whether a form is choosing `lost` for a lead that is not lost yet: the
    product's forms then ask for a remark with the reason (admin does not)."""
    return status == LeadStatus.LOST and stored_status != LeadStatus.LOST


def followup_from_shortcut(shortcut, *, now=None):
    """The follow-up a shortcut stands for (now + its offset), or None for ''."""
    if not shortcut:
        return None
    return (now or timezone.now()) + FOLLOWUP_SHORTCUTS[shortcut][1]


class NextStepMixin(forms.Form):
    """The rule of the pages a telecaller works a lead in (quick update, edit):
    a lead that stays open needs its next follow-up later than now, or the
    explicit `no_followup` tick (which clears an empty or past follow-up);
    closing needs none. A shortcut submit button
    (`followup_shortcut`, the pages' no-JavaScript path) sets the follow-up
    server-side. Admin and imports do not use these forms: they may store any
    follow-up."""

    no_followup = forms.BooleanField(required=False, label=NO_FOLLOWUP_LABEL)
    followup_shortcut = forms.ChoiceField(
        required=False,
        choices=[("", "")] + [(k, label) for k, (label, _) in FOLLOWUP_SHORTCUTS.items()],
        error_messages={"invalid_choice": "Unknown follow-up shortcut."},
    )

    def clean_next_step(self, cleaned, status_field):
        status = cleaned.get(status_field)
        if status is None or "followup_date" in self.errors:
            return cleaned
        shortcut = cleaned.get("followup_shortcut")
        if shortcut:
            cleaned["followup_date"] = followup_from_shortcut(shortcut)
        if status in CLOSED_STATUSES:
            return cleaned
        followup = cleaned.get("followup_date")
        if followup is not None and followup > timezone.now():
            # A real next call wins over the tick (the edit page shows an
            # unscheduled lead ticked, and a date typed there must not be lost).
            return cleaned
        if cleaned.get("no_followup"):
            cleaned["followup_date"] = None
        else:
            self.add_error("followup_date", NEXT_STEP_NEEDED)
        return cleaned


class FollowupInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=DATETIME_LOCAL_FORMAT)


def followup_field(**kwargs):
    # A datetime field parses naive input in the current time zone (TIME_ZONE)
    # and shows stored values converted to it.
    return forms.DateTimeField(
        required=False,
        widget=FollowupInput,
        validators=[validate_followup_range],
        input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        error_messages={"invalid": "Enter a date and time, e.g. 2026-11-28 16:30."},
        **kwargs,
    )


def keep_stored_followup(submitted, stored):
    """`submitted`, or `stored` when the form merely echoed it back.

    Forms show the follow-up to the minute (admin: to the second), so an
    untouched field comes back less precise than the stored value; that must
    not count as moving the follow-up.
    """
    if submitted is None or stored is None:
        return submitted
    if submitted in (stored.replace(microsecond=0), stored.replace(second=0, microsecond=0)):
        return stored
    return submitted


class LeadCreateForm(forms.ModelForm):
    followup_date = followup_field(label="Follow-up", help_text=FOLLOWUP_HELP)
    save_anyway = forms.BooleanField(
        required=False, label="Save anyway: this is a new enquiry, not a duplicate"
    )

    class Meta:
        model = Lead
        fields = ["customer_name", "mobile", "car_registration", "status", "followup_date",
                  "remarks"]
        labels = {"car_registration": "Car registration", "customer_name": "Customer name"}
        widgets = {
            "mobile": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
            "remarks": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, can_pick_owner=False, **kwargs):
        super().__init__(*args, **kwargs)
        # The same words as the model's validator (a name of only spaces).
        self.fields["customer_name"].error_messages["required"] = "Enter the customer's name."
        self.can_pick_owner = can_pick_owner
        if can_pick_owner:
            self.fields["owner"] = forms.ModelChoiceField(
                queryset=lead_owners(), required=False, label="Owner",
                empty_label="Me (whoever adds it)",
                help_text="Add the lead for one of the people who can own leads.",
                error_messages={"invalid_choice": "Choose someone who can own leads (an "
                                                  "active member of the Telecallers group)."},
            )

    def clean(self):
        cleaned = super().clean()
        if not self.can_pick_owner and "owner" in self.data:
            # No picker was shown: a posted owner is forged, never ignored.
            raise forms.ValidationError(FORGED_OWNER, code="forged_owner")
        if _marks_lost(cleaned.get("status"), None) and not cleaned.get("remarks", "").strip():
            self.add_error("remarks", LOST_NEEDS_A_REASON)
        return cleaned

    def chosen_owner(self, adding_user):
        """Who the lead belongs to: the picked owner, else whoever adds it."""
        return self.cleaned_data.get("owner") or adding_user

    def lead_data(self):
        """Keyword arguments for services.lead_create, normalised by the model."""
        return {name: getattr(self.instance, name) for name in self.Meta.fields}


class LeadEditForm(NextStepMixin, forms.ModelForm):
    followup_date = followup_field(label="Follow-up", help_text=FOLLOWUP_HELP)
    # Remarks are the lead's call log: the page adds a line, never rewrites
    # them (admin may correct them, and that is recorded in the history).
    remark = forms.CharField(
        required=False, validators=[validate_remark], label="Add a remark",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Added as a new line below the remarks, with the date and your name.",
    )
    # The row version the form was opened with (optimistic concurrency).
    modified_token = forms.CharField(widget=forms.HiddenInput)

    class Meta:
        model = Lead
        fields = ["status", "followup_date"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["modified_token"].initial = self.instance.modified_at.isoformat()
        # An unscheduled lead keeps its tick, so saving only a remark stays possible.
        self.fields["no_followup"].initial = (
            self.instance.followup_date is None
            and self.instance.status not in CLOSED_STATUSES
        )

    def clean_followup_date(self):
        return keep_stored_followup(
            self.cleaned_data["followup_date"], self.instance.followup_date
        )

    def clean(self):
        cleaned = super().clean()
        if _marks_lost(cleaned.get("status"), self.instance.status) and not (
            cleaned.get("remark", "").strip()
        ):
            self.add_error("remark", "Add a remark giving the reason the lead is lost.")
        return self.clean_next_step(cleaned, "status")

    def clean_modified_token(self):
        try:
            token = datetime.fromisoformat(self.cleaned_data["modified_token"])
        except ValueError:
            token = None
        if token is None or timezone.is_naive(token):
            raise forms.ValidationError(
                "This form is damaged or out of date: reload the page and try again."
            )
        return token

    def changes(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class LeadCorrectionForm(forms.ModelForm):
    """Correcting a lead's name, mobile or registration (the lead page): the
    model's rules, as when adding a lead; a new mobile is checked for open
    duplicates by the view, which asks for `save_anyway`."""

    modified_token = forms.CharField(widget=forms.HiddenInput)
    save_anyway = forms.BooleanField(
        required=False, label="Save anyway: this mobile is right for this lead"
    )

    class Meta:
        model = Lead
        fields = ["customer_name", "mobile", "car_registration"]
        labels = {"car_registration": "Car registration", "customer_name": "Customer name"}
        widgets = {"mobile": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer_name"].error_messages["required"] = "Enter the customer's name."
        self.fields["modified_token"].initial = self.instance.modified_at.isoformat()
        self.stored = {name: getattr(self.instance, name) for name in self.Meta.fields}

    clean_modified_token = LeadEditForm.clean_modified_token

    def changes(self):
        """The corrected fields (normalised by the model), only those that differ."""
        return {name: getattr(self.instance, name) for name in self.Meta.fields
                if getattr(self.instance, name) != self.stored[name]}


class QuickUpdateForm(NextStepMixin, forms.Form):
    status = forms.ChoiceField(choices=LeadStatus.choices, label="Status")
    followup_date = followup_field(label="Next follow-up")
    remark = forms.CharField(required=False, validators=[validate_remark], label="Remark")

    def __init__(self, *args, lead, **kwargs):
        super().__init__(*args, **kwargs)
        self.lead = lead

    def clean_followup_date(self):
        return keep_stored_followup(self.cleaned_data["followup_date"], self.lead.followup_date)

    def clean(self):
        cleaned = super().clean()
        if _marks_lost(cleaned.get("status"), self.lead.status) and not (
            cleaned.get("remark", "").strip()
        ):
            self.add_error("remark", LOST_NEEDS_A_REASON)
        return self.clean_next_step(cleaned, "status")

    def first_error(self):
        return first_error(self)


def first_error(form):
    """'Label: message' of a bound form's first invalid field, for a message."""
    name, errors = next(iter(form.errors.items()))
    label = form.fields[name].label if name in form.fields else "Form"
    return f"{label}: {errors[0]}"


class LeadListFilterForm(forms.Form):
    # One box for the three ways people look a customer up (LeadQuerySet.search).
    q = forms.CharField(
        required=False, max_length=100, label="Name, mobile or registration",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Meera, 98290 or RJ14"}),
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "All statuses"), *LeadStatus.choices], label="Status"
    )
    user = forms.ModelChoiceField(
        required=False,
        queryset=lead_owners().only("pk", "username"),
        empty_label="Everyone", label="User",
        error_messages={"invalid_choice": "No such user."},
    )
    due = forms.ChoiceField(
        required=False, label="Queue",
        choices=[("", "All leads"),
                 *zip(DUE_QUEUES, ["Due today", "Overdue", "Unscheduled"], strict=True)],
        error_messages={"invalid_choice": "Choose due=today, overdue or unscheduled."},
    )
    source = forms.CharField(required=False, max_length=LEAD_TAG_MAX_CHARS, label="Source")
    service_type = forms.CharField(
        required=False, max_length=LEAD_TAG_MAX_CHARS, label="Service type"
    )
    car_model = forms.CharField(required=False, max_length=LEAD_TAG_MAX_CHARS, label="Car model")
    page = forms.IntegerField(
        required=False, min_value=1, max_value=100_000, widget=forms.HiddenInput,
        error_messages={"invalid": "The page must be a whole number."},
    )
    new = forms.BooleanField(required=False, label="New for the owner only",
                             help_text="Leads given to their owner that they have not "
                                       "updated yet.")

    def __init__(self, *args, show_user_filter, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_user_filter:
            del self.fields["user"]

    def clean_q(self):
        # Any text is a search: punctuation only separates words, and a term
        # with no letters or digits simply matches nothing (the page says so).
        return self.cleaned_data["q"].strip()

    def filter(self, leads):
        """`leads` filtered and ordered: a queue in its working order, else newest first."""
        data = self.cleaned_data
        leads = leads.search(data["q"])
        if data["status"]:
            leads = leads.filter(status=data["status"])
        if data.get("user") is not None:
            leads = leads.owned_by(data["user"])
        if data.get("new"):
            leads = leads.filter(new_for_owner=True)
        # Exact values, as stored (blank: no filter).
        for tag in ("source", "service_type", "car_model"):
            if data[tag].strip():
                leads = leads.filter(**{tag: data[tag].strip()})
        if data["due"]:
            return leads.due_queue(data["due"], day=timezone.localdate())
        return leads.order_by("-created_at", "-pk")
