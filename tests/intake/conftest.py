import csv
import io

import openpyxl
import pytest

from intake.importing import ImportOptions, dry_run, run_import
from leads.signals import leads_changed

HEADER = ["customer_name", "mobile", "car_registration", "car_model", "service_type",
          "followup_date", "remarks"]


def csv_bytes(rows, *, delimiter=",", bom=False):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    for row in rows:
        writer.writerow(row)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.INTAKE_UPLOAD_DIR = tmp_path / "uploads"
    return settings.INTAKE_UPLOAD_DIR


@pytest.fixture
def write_file(tmp_path):
    def write(name, content):
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path
    return write


@pytest.fixture
def write_csv(write_file):
    def write(rows, name="campaign.csv", **kwargs):
        return write_file(name, csv_bytes(rows, **kwargs))
    return write


@pytest.fixture
def write_xlsx(tmp_path):
    def write(rows, name="campaign.xlsx", sheet_title="Sheet1", extra_sheets=()):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = sheet_title
        for row in rows:
            sheet.append(row)
        for title, extra_rows in extra_sheets:
            extra = workbook.create_sheet(title)
            for row in extra_rows:
                extra.append(row)
        path = tmp_path / name
        workbook.save(path)
        return path
    return write


@pytest.fixture
def do_import():
    def run(path, by_user=None, max_rows=None, **options):
        return run_import(path, file_name=path.name, options=ImportOptions(**options),
                          by_user=by_user, max_rows=max_rows)
    return run


@pytest.fixture
def do_dry_run():
    def run(path, max_rows=None, **options):
        return dry_run(path, file_name=path.name, options=ImportOptions(**options),
                       max_rows=max_rows)
    return run


@pytest.fixture
def announced():
    calls = []

    def receiver(sender, owner_ids, users_changed, **kwargs):
        calls.append(set(owner_ids))

    leads_changed.connect(receiver, dispatch_uid="test_intake_announced")
    yield calls
    leads_changed.disconnect(dispatch_uid="test_intake_announced")
