import csv

from django.http import StreamingHttpResponse
from django.utils import timezone

# Spreadsheets (Excel above all) read a CSV without a byte order mark in the
# system's legacy code page, which garbles Devanagari, Tamil and every other
# non-Latin name; the BOM tells them it is UTF-8.
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
UTF8_BOM = "\ufeff"

# A spreadsheet treats a cell starting with one of these as a formula
# (OWASP "CSV injection"); tab and carriage return can smuggle one in too.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

LEAD_CSV_COLUMNS = [
    ("id", "ID"),
    ("customer_name", "Customer"),
    ("mobile", "Mobile"),
    ("car_registration", "Registration"),
    ("car_model", "Car model"),
    ("service_type", "Service type"),
    ("source", "Source"),
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
    """Yield CSV lines for `leads` (a queryset), header first (after the BOM),
    streaming in chunks."""
    writer = csv.writer(_Echo())
    yield UTF8_BOM + writer.writerow([label for _, label in LEAD_CSV_COLUMNS])
    for lead in leads.select_related("creator").iterator(chunk_size=2000):
        yield writer.writerow([neutralize_cell(_format(lead, f)) for f, _ in LEAD_CSV_COLUMNS])


def lead_csv_response(leads, *, filename):
    """A streamed download of `leads` (a queryset) as `filename`."""
    response = StreamingHttpResponse(iter_lead_csv_rows(leads), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
