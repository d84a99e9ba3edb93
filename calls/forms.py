"""The call part of the forms a telecaller works a lead in (the due card's
quick update, the lead's edit page): which outcome, a note, how long."""

from django import forms

from calls.models import MAX_CALL_SECONDS, NOTE_MAX_CHARS, CallOutcome

UNKNOWN_OUTCOME = "Unknown call outcome: choose one of the buttons."
DURATION_RANGE = (
    f"A call lasts 0 to {MAX_CALL_SECONDS:,} seconds (4 hours); give the length in seconds."
)


class CallForm(forms.Form):
    """Optional: no outcome means no call is recorded (opening `tel:` alone
    records nothing). `note` is only on pages that have no remark box of
    their own to share (see calls.services)."""

    outcome = forms.ChoiceField(
        required=False, label="Call outcome", widget=forms.RadioSelect,
        choices=[("", "No call"), *CallOutcome.choices],
        error_messages={"invalid_choice": UNKNOWN_OUTCOME},
    )
    note = forms.CharField(
        required=False, label="Call note", max_length=NOTE_MAX_CHARS,
        error_messages={"max_length": (f"A call note can have at most {NOTE_MAX_CHARS:,} "
                                       "characters; this one has %(show_value)d.")},
    )
    duration = forms.IntegerField(
        required=False, label="Call length (seconds)", min_value=0, max_value=MAX_CALL_SECONDS,
        error_messages={"min_value": DURATION_RANGE, "max_value": DURATION_RANGE,
                        "invalid": DURATION_RANGE},
    )

    def __init__(self, *args, with_note=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_note:
            del self.fields["note"]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("outcome") and cleaned.get("duration") is not None:
            self.add_error("outcome", "Choose the call's outcome to record its length.")
        return cleaned

    def call_data(self):
        """Keyword arguments for calls.services.call_record_with_update."""
        data = self.cleaned_data
        return {"outcome": data["outcome"] or None, "duration": data["duration"],
                **({"note": data["note"]} if "note" in self.fields else {})}
