"""Reading an import file, streamed: CSV (UTF-8 with or without a byte order
mark; comma or semicolon) or XLSX (openpyxl in read-only mode). Yields the
header, then each data row with its spreadsheet row number (the header is
row 1). Anything that makes the whole file unreadable is a FileRefused with
a message for the person who uploaded it."""

import codecs
import csv
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from intake.errors import FileRefused

CSV_EXTENSIONS = (".csv", ".txt")
XLSX_EXTENSIONS = (".xlsx",)
# A member of an XLSX (a zip) that inflates more than this many times and to
# more than XLSX_MEMBER_CHECKED_BYTES is a zip bomb, not a spreadsheet: real
# sheets compress 5 to 30 times.
XLSX_MAX_RATIO = 200
XLSX_MEMBER_CHECKED_BYTES = 10 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class Table:
    kind: str  # "csv" or "xlsx"
    header: list
    rows: object  # iterator of (row_number, [cells])
    # The rows an XLSX says it has (its dimension), before reading them.
    declared_rows: int | None = None


def open_table(path, *, file_name, sheet=None, converted_dir=None):
    """The Table of the file at `path` (named `file_name` by its sender).

    With `converted_dir`, an XLSX is read once: the first full read also
    writes its cells there (JSON lines, keyed by the file's path, size,
    modification time and sheet), and later reads of the same file read
    that, several times faster than parsing the sheet's XML again (the
    preview's read serves the import). See `forget_converted`.
    """
    path = Path(path)
    suffix = Path(file_name).suffix.lower()
    with open(path, "rb") as handle:
        start = handle.read(8)
    if not start:
        raise FileRefused(_EMPTY)
    if start.startswith(b"%PDF"):
        raise FileRefused(
            f"“{file_name}” is a PDF, not a spreadsheet: export the data as CSV (UTF-8) or "
            "Excel (.xlsx) and upload that."
        )
    if suffix in XLSX_EXTENSIONS:
        if not start.startswith(_ZIP_MAGIC):
            raise FileRefused(
                f"“{file_name}” is not an Excel .xlsx file (its content is something else): "
                "save it from Excel as .xlsx, or as CSV UTF-8."
            )
        if converted_dir is None:
            return open_xlsx(path, file_name=file_name, sheet=sheet)
        converted = _converted_path(path, sheet, converted_dir)
        if converted.is_file():
            return _open_converted(converted)
        table = open_xlsx(path, file_name=file_name, sheet=sheet)
        table.rows = _recording(table.header, table.rows, converted)
        return table
    if suffix in CSV_EXTENSIONS:
        if start.startswith(_ZIP_MAGIC):
            raise FileRefused(
                f"“{file_name}” is not a CSV text file (it looks like an Excel workbook or a "
                "zip renamed): upload the .xlsx as it is, or save it as CSV UTF-8."
            )
        if sheet:
            raise FileRefused("A CSV file has no sheets: leave the sheet name empty.")
        return _open_csv(path, file_name=file_name)
    if suffix == ".xls":
        raise FileRefused(
            "Old Excel files (.xls) are not read: save it as Excel workbook (.xlsx) or CSV UTF-8."
        )
    raise FileRefused(
        f"“{file_name}” is neither a .csv nor an .xlsx file: upload a CSV (UTF-8) or an "
        "Excel workbook (.xlsx)."
    )


_EMPTY = (
    "The file is empty: it needs a header row (customer_name, mobile, …) and at least "
    "one data row."
)
HEADER_ONLY = "The file has a header row but no data rows: nothing to import."


def _utf8_lines(handle, file_name):
    for number, raw in enumerate(handle, start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileRefused(
                f"“{file_name}” is not UTF-8 text: line {number} has the byte "
                f"0x{raw[exc.start]:02X}, which UTF-8 does not allow (the file was probably "
                "saved as Windows-1252 or another legacy encoding). Save it as “CSV UTF-8” "
                "and upload it again."
            ) from None
        if "\x00" in line:
            raise FileRefused(
                f"“{file_name}” is not a text CSV: line {number} holds a NUL byte (a binary "
                "file, or UTF-16: save it as “CSV UTF-8”)."
            )
        yield line


def _delimiter(header_line):
    # Spreadsheets in locales with a decimal comma write semicolons.
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _open_csv(path, *, file_name):
    # Closed when the rows are exhausted or the generator is collected: the
    # header is read here, the rows later, from the same stream.
    handle = open(path, "rb")  # noqa: SIM115
    lines = _utf8_lines(handle, file_name)
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        handle.close()
        raise FileRefused(_EMPTY)
    delimiter = _delimiter(first)
    header = next(csv.reader([first], delimiter=delimiter))

    def rows():
        reader = csv.reader(lines, delimiter=delimiter)
        number = 1
        try:
            for cells in reader:
                number += 1
                yield number, cells
        except csv.Error as exc:
            raise FileRefused(
                f"“{file_name}” cannot be read as CSV after line {reader.line_num + 1}: {exc}."
            ) from None
        finally:
            handle.close()

    return Table(kind="csv", header=header, rows=rows())


def _check_zip(path, file_name):
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise FileRefused(f"“{file_name}” is not a readable .xlsx file (a damaged zip).") from None
    for member in members:
        if (member.file_size > XLSX_MEMBER_CHECKED_BYTES
                and member.file_size > XLSX_MAX_RATIO * max(member.compress_size, 1)):
            raise FileRefused(
                f"“{file_name}” is refused: its part {member.filename} would inflate from "
                f"{member.compress_size:,} to {member.file_size:,} bytes, which no real "
                "spreadsheet does (a zip bomb)."
            )


def xlsx_cell(value):
    """A cell as the importer reads it: text, or a date/datetime (a formula
    stays its text, e.g. '=1+1': read-only mode without data_only never
    evaluates one)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value
    if isinstance(value, time):
        return value.isoformat(timespec="minutes")
    return str(value)


def open_xlsx(path, *, file_name, sheet):
    import openpyxl  # only imports need it
    from openpyxl.utils.exceptions import InvalidFileException

    _check_zip(path, file_name)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileRefused(f"“{file_name}” is not a readable .xlsx file ({exc}).") from None
    if sheet:
        if sheet not in workbook.sheetnames:
            workbook.close()
            raise FileRefused(
                f"“{file_name}” has no sheet named “{sheet}”; its sheets: "
                f"{', '.join(workbook.sheetnames)}."
            )
        worksheet = workbook[sheet]
    else:
        worksheet = workbook.worksheets[0]
    declared_rows = worksheet.max_row
    # Read every row and cell there is: with its declared dimension openpyxl
    # would silently drop rows and cells beyond it.
    worksheet.reset_dimensions()
    values = worksheet.iter_rows(values_only=True)
    header = None
    number = 0
    for cells in values:
        number += 1
        if any(cell not in (None, "") for cell in cells):
            header = [xlsx_cell(cell) for cell in cells]
            break
    if header is None:
        workbook.close()
        raise FileRefused(_EMPTY)
    # Trailing empty header cells are formatting, not columns.
    while header and header[-1] == "":
        header.pop()

    def rows():
        row_number = number
        try:
            for cells in values:
                row_number += 1
                yield row_number, [xlsx_cell(cell) for cell in cells]
        finally:
            workbook.close()

    declared = None if declared_rows is None else max(declared_rows - number, 0)
    return Table(kind="xlsx", header=header, rows=rows(), declared_rows=declared)


# --- XLSX read once ----------------------------------------------------------

def _converted_path(path, sheet, directory):
    status = path.stat()
    key = f"{path.resolve()}|{status.st_size}|{status.st_mtime_ns}|{sheet or ''}"
    return Path(directory) / f"{hashlib.sha256(key.encode()).hexdigest()}.rows.jsonl"


def forget_converted(path, *, sheet=None, converted_dir):
    """Remove the converted copy of an XLSX (after its import)."""
    path = Path(path)
    if path.is_file():
        _converted_path(path, sheet, converted_dir).unlink(missing_ok=True)


def _encode(cell):
    if isinstance(cell, datetime):
        return {"datetime": cell.isoformat()}
    if isinstance(cell, date):
        return {"date": cell.isoformat()}
    return cell


def _decode(cell):
    if isinstance(cell, dict):
        if "datetime" in cell:
            return datetime.fromisoformat(cell["datetime"])
        return date.fromisoformat(cell["date"])
    return cell


def _recording(header, rows, converted):
    """The `rows`, written to `converted` as they pass; the copy is kept
    only when every row was read (a refused or abandoned read leaves none)."""
    converted.parent.mkdir(parents=True, exist_ok=True)
    partial = converted.with_name(converted.name + f".{os.getpid()}.partial")
    complete = False
    try:
        with open(partial, "w", encoding="utf-8") as out:
            out.write(json.dumps([_encode(cell) for cell in header]) + "\n")
            for row_number, cells in rows:
                out.write(json.dumps([row_number, [_encode(cell) for cell in cells]]) + "\n")
                yield row_number, cells
        complete = True
    finally:
        if complete:
            os.replace(partial, converted)
        else:
            partial.unlink(missing_ok=True)


def _open_converted(converted):
    handle = open(converted, encoding="utf-8")  # noqa: SIM115  (closed by rows())
    header = [_decode(cell) for cell in json.loads(handle.readline())]

    def rows():
        with handle:
            for line in handle:
                row_number, cells = json.loads(line)
                yield row_number, [_decode(cell) for cell in cells]

    return Table(kind="xlsx", header=header, rows=rows())
