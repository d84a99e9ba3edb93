"""WhatsApp message texts: the placeholders a template may use, checking a
template's text, filling it for a lead, and the wa.me link that opens it."""

from string import Formatter
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format

PLACEHOLDERS = ("customer_name", "car_registration", "followup_date", "telecaller")
VALID_LIST = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
TEXT_MAX_CHARS = 1_000


def _parts(text):
    """[(literal, placeholder or None)], or ValueError for bad braces."""
    return [(literal, name) for literal, name, _, _ in Formatter().parse(text)]


def validate_template_text(text):
    """Refuse a text with bad braces or a placeholder that is not one of
    PLACEHOLDERS (nor a bare one, a format spec or a conversion), naming the
    valid ones. Literal braces are written doubled: {{ and }}."""
    try:
        parsed = list(Formatter().parse(text))
    except ValueError:
        raise ValidationError(
            f"A brace is not closed or not opened: placeholders are written {VALID_LIST}; "
            "to show a brace itself, type it twice.", code="bad_braces",
        ) from None
    unknown = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        written = "{" + name + (f"!{conversion}" if conversion else "") + (
            f":{spec}" if spec else "") + "}"
        if name not in PLACEHOLDERS or spec or conversion:
            unknown.append(written)
    if unknown:
        raise ValidationError(
            f"Unknown placeholder{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: "
            f"the valid ones are {VALID_LIST}.", code="unknown_placeholder",
        )


def placeholder_values(*, lead, sender):
    followup = lead.followup_date
    return {
        "customer_name": lead.customer_name,
        "car_registration": lead.car_registration,
        "followup_date": (date_format(timezone.localtime(followup), "DATETIME_FORMAT")
                          if followup else ""),
        "telecaller": sender.get_full_name() or sender.get_username(),
    }


def fill(text, values):
    """`text` with each placeholder replaced by its value. Values are never
    read as placeholders themselves, and a text that fails validation (one
    saved before the rules, or straight into the table) is refused with
    ValidationError rather than half filled."""
    validate_template_text(text)
    return "".join(literal + (values[name] if name is not None else "")
                   for literal, name in _parts(text))


def whatsapp_url(mobile, text):
    """The wa.me link that opens a chat with the Indian mobile `mobile` (its
    10 digits) with `text` typed in, URL-encoded."""
    return f"https://wa.me/91{mobile}?text={quote(text, safe='')}"
