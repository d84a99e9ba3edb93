import csv

from django.utils import timezone

# A spreadsheet treats a cell starting with one of these as a formula
# (OWASP "CSV injection"); tab and carriage return can smuggle one in too.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

LEAD_CSV_COLUMNS = [
    ("id", "ID"),
    ("customer_name", "Customer"),
    ("mobile", "Mobile"),
    ("car_registration", "Registration"),
    ("status", "Status"),
    ("followup_date", "Follow-up"),
    ("remarks", "Remarks"),
    ("creator", "Creator"),
    ("created_at", "Created"),
]


def neutralize_cell(value):
    """Make a cell safe to open in a spreadsheet: text that would start a
    formula gets a leading apostrophe, so it is shown, not evaluated."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_TRIGGERS):
        return "'" + text
    return text


class _Echo:
    def write(self, value):
        return value


def _format(lead, field):
    if field == "creator":
        return lead.creator.get_username()
    if field == "status":
        return lead.get_status_display()
    value = getattr(lead, field)
    if hasattr(value, "isoformat"):
        return timezone.localtime(value).isoformat(timespec="minutes")
    return value


def iter_lead_csv_rows(leads):
    """Yield CSV lines for `leads` (a queryset), header first, streaming in chunks."""
    writer = csv.writer(_Echo())
    yield writer.writerow([label for _, label in LEAD_CSV_COLUMNS])
    for lead in leads.select_related("creator").iterator(chunk_size=2000):
        yield writer.writerow([neutralize_cell(_format(lead, f)) for f, _ in LEAD_CSV_COLUMNS])
