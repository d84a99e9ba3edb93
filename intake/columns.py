"""Which column of an import file holds which lead field: headers matched
ignoring case, surrounding spaces and the difference between spaces, dashes
and underscores, with common aliases."""

import re
from dataclasses import dataclass, field

from intake.errors import FileRefused

# field -> the header spellings accepted for it (already normalised).
FIELD_ALIASES = {
    "customer_name": ("customer name", "name", "customer", "customer full name", "full name"),
    "mobile": ("mobile", "phone", "mobile number", "phone number", "mobile no", "phone no",
               "contact number"),
    "car_registration": ("car registration", "registration", "reg no", "registration number",
                         "registration no", "car number", "vehicle number"),
    "car_model": ("car model", "model", "car", "vehicle model"),
    "service_type": ("service type", "service"),
    "source": ("source", "lead source"),
    "followup_date": ("followup date", "follow up date", "followup", "follow up",
                      "next followup", "next follow up"),
    "remarks": ("remarks", "remark", "notes", "note", "comments"),
    "owner": ("owner", "assigned to", "assign to", "telecaller"),
}
REQUIRED_FIELDS = ("customer_name", "mobile")
FIELD_LABELS = {
    "customer_name": "customer_name (or name, customer)",
    "mobile": "mobile (or phone, mobile number)",
}
_ALIAS_TO_FIELD = {alias: name for name, aliases in FIELD_ALIASES.items() for alias in aliases}
_SEPARATORS = re.compile(r"[\s_\-]+")


def normalise_header(text):
    return _SEPARATORS.sub(" ", str(text if text is not None else "")).strip().lower()


@dataclass
class ColumnMap:
    header: list
    positions: dict = field(default_factory=dict)  # field -> index in a row
    unknown: list = field(default_factory=list)  # header texts ignored

    def header_of(self, name):
        return str(self.header[self.positions[name]]).strip()


def match_columns(header):
    """A ColumnMap for `header` (the first row's cells), or FileRefused when a
    required column is missing or two columns carry the same name."""
    columns = ColumnMap(header=list(header))
    seen = {}
    for index, text in enumerate(header):
        name = normalise_header(text)
        if not name:
            continue  # an empty header cell: a column nobody named, ignored
        if name in seen:
            raise FileRefused(
                f"Columns {seen[name] + 1} and {index + 1} have the same name "
                f"(“{str(header[seen[name]]).strip()}” and “{str(text).strip()}”): "
                "rename or remove one of them and upload the file again."
            )
        seen[name] = index
        target = _ALIAS_TO_FIELD.get(name)
        if target is None:
            columns.unknown.append(str(text).strip())
            continue
        if target in columns.positions:
            first = columns.header_of(target)
            raise FileRefused(
                f"Columns {columns.positions[target] + 1} (“{first}”) and {index + 1} "
                f"(“{str(text).strip()}”) both mean {target}: keep one of them and upload "
                "the file again."
            )
        columns.positions[target] = index
    missing = [name for name in REQUIRED_FIELDS if name not in columns.positions]
    if missing:
        names = " and ".join(FIELD_LABELS[name] for name in missing)
        found = ", ".join(str(t).strip() for t in header if normalise_header(t)) or "none"
        raise FileRefused(
            f"The file has no {names} column: the header row must name it. "
            f"Columns found: {found}."
        )
    return columns
