"""The calls' parts of a due card, as escaped strings (the due list is built
without the template engine, see leads/templatetags/leads_tags.py): the
outcome buttons of the quick-update form and the "3rd try · last: …" line."""

from datetime import datetime
from functools import cache
from html import escape

from django.utils import timezone

from calls.models import MAX_CALL_SECONDS, CallOutcome
from crm.people_dates import format_for_people


def ordinal(n):
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st, 101st, 111th."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


_LABELS = dict(CallOutcome.choices)


def outcome_label(value):
    """The outcome's label (a stored value unknown here shows as itself)."""
    return _LABELS.get(value, value)


def attempts_text(calls, *, today=None):
    """"3rd try · last: No answer, 11:05" for a due item's `calls` ({"attempts",
    "last_outcome", "last_called_at"}); the date too when the last call was not
    today (business time zone). '' without calls."""
    if not calls or not calls.get("attempts"):
        return ""
    text = f"{ordinal(calls['attempts'])} try"
    if calls.get("last_called_at"):
        at = timezone.localtime(datetime.fromisoformat(calls["last_called_at"]))
        same_day = at.date() == (today or timezone.localdate())
        when = format_for_people(at, "TIME_FORMAT" if same_day else "DATETIME_FORMAT")
        text += f" · last: {outcome_label(calls['last_outcome'])}, {when}"
    return text


def attempts_html(calls):
    text = attempts_text(calls)
    return f'<p class="call-attempts">{escape(text)}</p>' if text else ""


_LEAD = "{lead}"  # stands for the lead id in the cached markup
_OUTCOME_VALUES = frozenset(CallOutcome.values)


@cache
def _outcome_buttons():
    radios = "".join(
        f'<label class="call-outcome" for="qu-{_LEAD}-outcome-{value or "none"}">'
        f'<input type="radio" id="qu-{_LEAD}-outcome-{value or "none"}" name="outcome"'
        f' value="{escape(value)}"{" checked" if not value else ""}> {escape(label)}</label>'
        for value, label in [("", "No call"), *CallOutcome.choices]
    )
    return (
        f'<fieldset class="call-outcomes" data-lead="{_LEAD}">'
        f"<legend>Call outcome</legend>{radios}</fieldset>"
    )


def outcome_fields_html(lead_id, *, outcome="", duration=""):
    """The quick-update form's call fields: one radio button per outcome
    (large tap targets; "No call" checked unless `outcome`), and the call's
    length in seconds. static/js/calls.js proposes the next step on a tap."""
    lead_id = int(lead_id)
    buttons = _outcome_buttons().replace(_LEAD, str(lead_id))
    if outcome and outcome in _OUTCOME_VALUES:
        buttons = buttons.replace(" checked>", ">", 1).replace(
            f'value="{outcome}">', f'value="{outcome}" checked>', 1)
    return (
        f"{buttons}"
        f'<label for="qu-{lead_id}-duration">Call length (seconds, optional)</label>'
        f'<input type="number" id="qu-{lead_id}-duration" name="duration" min="0"'
        f' max="{MAX_CALL_SECONDS}" step="1" inputmode="numeric"'
        f' value="{escape(str(duration or ""))}">'
    )
