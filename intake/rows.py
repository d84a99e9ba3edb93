"""One data row of an import file as a lead would store it, through the same
field rules as the forms and admin (the Lead model's fields: mobile and
registration normalisation, lengths, visible names), or its row errors."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.utils import timezone

from leads.models import Lead, validate_followup_range
from leads.normalization import MOBILE_ERROR

# Text the importer accepts for a follow-up (business time zone): these
# strptime formats, matched by _parse_followup_text.
FOLLOWUP_FORMATS = (
    "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y %H:%M", "%d-%m-%Y",
)
FOLLOWUP_ERROR = (
    "Enter the follow-up as YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY, optionally with HH:MM "
    "(e.g. 2026-12-01 10:30 or 01/12/2026)."
)
# A follow-up given as a day only is due at this time of that day.
DATE_ONLY_TIME = time(10, 0)
# Error messages show at most this much of the value (the failed-rows CSV keeps all).
SHOWN_VALUE_CHARS = 80
LEAD_TEXT_FIELDS = ("customer_name", "mobile", "car_registration", "car_model", "service_type",
                    "source", "remarks")
BLANK_MESSAGES = {"customer_name": "Enter the customer's name.", "mobile": MOBILE_ERROR}


@dataclass
class RowError:
    row_number: int
    column: str
    value: str
    message: str


@dataclass
class CleanRow:
    row_number: int
    cells: list
    values: dict = field(default_factory=dict)
    owner_id: int | None = None
    owner_name: str = ""
    errors: list = field(default_factory=list)


def shown(value):
    text = value.isoformat() if isinstance(value, (date, datetime)) else str(value)
    if len(text) > SHOWN_VALUE_CHARS:
        return f"{text[:SHOWN_VALUE_CHARS]}… ({len(text):,} characters)"
    return text


def clean_lead_field(name, raw):
    """The stored value of `raw` for Lead.`name` (the model field's own rules:
    what forms and admin apply), or ValidationError."""
    model_field = Lead._meta.get_field(name)
    text = raw.isoformat() if isinstance(raw, (date, datetime)) else str(raw)
    text = text.strip()
    if not text:
        if name in BLANK_MESSAGES:
            raise ValidationError(BLANK_MESSAGES[name])
        return ""
    value = model_field.to_python(text)
    model_field.run_validators(value)
    return value


_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?: (\d{1,2}):(\d{2}))?")
_DAY_FIRST = re.compile(r"(\d{1,2})([/-])(\d{1,2})\2(\d{4})(?: (\d{1,2}):(\d{2}))?")


def _parse_followup_text(text):
    """FOLLOWUP_FORMATS by regular expression (strptime, tried format after
    format, costs most of a row's time in a big import)."""
    match = _ISO_DAY.fullmatch(text)
    if match:
        year, month, day, hour, minute = match.groups()
    else:
        match = _DAY_FIRST.fullmatch(text)
        if not match:
            raise ValidationError(FOLLOWUP_ERROR)
        day, _, month, year, hour, minute = match.groups()
    try:
        if hour is None:
            return datetime.combine(date(int(year), int(month), int(day)), DATE_ONLY_TIME)
        return datetime(int(year), int(month), int(day), int(hour), int(minute))
    except ValueError:
        raise ValidationError(FOLLOWUP_ERROR) from None


def parse_followup(raw):
    """An aware datetime in the business time zone, or ValidationError."""
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, date):
        moment = datetime.combine(raw, DATE_ONLY_TIME)
    else:
        text = " ".join(str(raw).split())
        if not text:
            return None
        moment = _parse_followup_text(text)
    if timezone.is_naive(moment):
        if not 1 < moment.year < 9999:
            raise ValidationError("Choose a follow-up between 2000 and 2100.")
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    validate_followup_range(moment)
    return moment


class RowCleaner:
    """Cleans rows of one file: `columns` (intake.columns.ColumnMap), the
    source for rows without one, and the people who may own leads
    (username -> id) plus every other username (for the message)."""

    def __init__(self, columns, *, source, owners, other_users):
        self.columns = columns
        self.source = source
        self.owners = owners
        self.other_users = other_users
        self.width = len(columns.header)

    def clean(self, row_number, cells):
        row = CleanRow(row_number=row_number, cells=cells)
        if len(cells) > self.width and any(str(c).strip() for c in cells[self.width:]):
            row.errors.append(RowError(
                row_number, "(row)", shown(", ".join(str(c) for c in cells[self.width:])),
                f"The row has {len(cells)} cells but the header names {self.width} columns "
                "(a stray delimiter, or an unquoted comma inside a value?).",
            ))
            return row
        positions = self.columns.positions
        for name in LEAD_TEXT_FIELDS:
            if name not in positions:
                continue
            raw = cells[positions[name]] if positions[name] < len(cells) else ""
            try:
                row.values[name] = clean_lead_field(name, raw)
            except ValidationError as exc:
                row.errors.append(RowError(
                    row_number, self.columns.header_of(name), shown(raw), " ".join(exc.messages)
                ))
        if not row.values.get("source"):
            row.values["source"] = self.source
        if "followup_date" in positions:
            index = positions["followup_date"]
            raw = cells[index] if index < len(cells) else ""
            try:
                row.values["followup_date"] = parse_followup(raw)
            except ValidationError as exc:
                row.errors.append(RowError(
                    row_number, self.columns.header_of("followup_date"), shown(raw),
                    " ".join(exc.messages),
                ))
        if "owner" in positions:
            self._clean_owner(row, cells)
        return row

    def _clean_owner(self, row, cells):
        index = self.columns.positions["owner"]
        raw = str(cells[index] if index < len(cells) else "").strip()
        if not raw:
            return
        owner_id = self.owners.get(raw.lower())
        if owner_id is not None:
            row.owner_id, row.owner_name = owner_id, raw
            return
        if raw.lower() in self.other_users:
            message = (f"{raw} cannot own leads (inactive, or not in the Telecallers group): "
                       "name an active telecaller, or leave it blank for the queue.")
        else:
            message = (f"No user is called {raw}: name an active telecaller by username, or "
                       "leave it blank for the queue.")
        row.errors.append(RowError(row.row_number, self.columns.header_of("owner"),
                                   shown(raw), message))
