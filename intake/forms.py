from django import forms

from intake.importing import DUPLICATE_MODES
from leads.models import LEAD_TAG_MAX_CHARS
from leads.people import lead_owners

ASSIGN_CHOICES = [
    ("queue", "Leave them in the unassigned queue"),
    ("user", "Give them all to one user"),
    ("round-robin", "Round-robin over the team"),
    ("least-loaded", "Least-loaded first"),
]


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV or Excel file",
        help_text="A .csv (UTF-8, comma or semicolon) or .xlsx file with a header row.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )
    source = forms.CharField(
        required=False, max_length=LEAD_TAG_MAX_CHARS,
        help_text="Where the leads came from; blank: the file's name (a source column wins).",
    )
    assign = forms.ChoiceField(choices=ASSIGN_CHOICES, initial="queue", label="Owners",
                               help_text="Rows with a value in an owner column go to that user.")
    user = forms.ModelChoiceField(
        queryset=lead_owners(), required=False, label="User (for “one user”)",
        error_messages={"invalid_choice": "That user cannot own leads."},
    )
    users = forms.ModelMultipleChoiceField(
        queryset=lead_owners(), required=False, label="Users (for the rules)",
        help_text="Round-robin and least-loaded: who receives leads; none chosen: everyone "
                  "who can own leads.",
        error_messages={"invalid_choice": "%(value)s cannot own leads."},
    )
    duplicates = forms.ChoiceField(
        choices=[(mode, label) for mode, label in zip(
            DUPLICATE_MODES, ["Skip duplicates", "Import duplicates anyway (marked)"],
            strict=True)],
        initial="skip", label="Duplicates",
        help_text="Same mobile as an earlier row, an open lead or a waiting queue entry.",
    )
    sheet = forms.CharField(required=False, max_length=100,
                            help_text="Excel only: the sheet to read; blank: the first.")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("assign") == "user" and not cleaned.get("user"):
            self.add_error("user", "Choose the user who receives the leads.")
        return cleaned

    def assign_option(self):
        """The --assign value these choices stand for."""
        data = self.cleaned_data
        if data["assign"] == "user":
            return f"user:{data['user'].get_username()}"
        return data["assign"]
