"""The file import (intake.importing, the import_leads command): good files,
every bad input of the issue, duplicates, owners, atomic batches, revert."""

from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from intake.errors import FileRefused
from intake.importing import revert_batch
from intake.models import BatchStatus, EntryState, ImportBatch, ImportRowProblem, IntakeEntry
from leads import services
from leads.models import Lead, LeadStatus
from tests.factories import LeadFactory, ManagerFactory, UserFactory
from tests.intake.conftest import HEADER

pytestmark = pytest.mark.django_db

GOOD = [
    HEADER,
    ["Asha Rao", "+91 98290 12345", "rj14 ab 1234", "Swift", "Service", "2026-12-01 10:30", "hi"],
    ["Vikram Singh", "09829012346", "", "City", "Repair", "01/12/2026", ""],
]


def test_csv_rows_wait_in_the_queue_as_stored(write_csv, do_import):
    batch = do_import(write_csv(GOOD))
    assert (batch.status, batch.rows_total, batch.queued, batch.leads_created) == (
        BatchStatus.COMPLETE, 2, 2, 0)
    first, second = IntakeEntry.objects.order_by("row_number")
    assert first.state == EntryState.WAITING
    assert (first.mobile, first.car_registration, first.source) == (
        "9829012345", "RJ14AB1234", "campaign")  # source: the file name
    assert timezone.localtime(first.followup_date).strftime("%Y-%m-%d %H:%M") == "2026-12-01 10:30"
    assert timezone.localtime(second.followup_date).strftime("%d %H:%M") == "01 10:00"
    assert first.row_number == 2 and first.batch == batch
    assert not Lead.objects.exists()


def test_semicolons_bom_aliases_and_unknown_columns(write_csv, do_dry_run):
    rows = [[" Customer ", "Mobile-Number", "REG_NO", "Colour"],
            ["Asha", "9829012345", "RJ14AB1234", "red"]]
    report = do_dry_run(write_csv(rows, delimiter=";", bom=True))
    assert report.columns == {"customer_name": "Customer", "mobile": "Mobile-Number",
                              "car_registration": "REG_NO"}
    assert report.unknown_columns == ["Colour"]
    assert (report.rows, report.valid) == (1, 1)
    assert report.preview[0].clean.values["mobile"] == "9829012345"


def test_xlsx_first_or_chosen_sheet(write_xlsx, do_dry_run):
    path = write_xlsx([["name", "phone"], ["Asha", 9829012345]],
                      extra_sheets=[("March", [["name", "phone"], ["B", "9829012346"],
                                               ["C", "9829012347"]])])
    assert do_dry_run(path).valid == 1
    assert do_dry_run(path, sheet="March").valid == 2
    with pytest.raises(FileRefused, match="no sheet named “April”; its sheets: Sheet1, March"):
        do_dry_run(path, sheet="April")


def test_xlsx_formula_is_text_never_evaluated(write_xlsx, do_import):
    do_import(write_xlsx([["name", "phone", "remarks"], ["Asha", "9829012345", "=1+1"]]))
    assert IntakeEntry.objects.get().remarks == "=1+1"


def test_dry_run_counts_and_stores_nothing(write_csv, do_dry_run):
    LeadFactory(mobile="9829012345")
    IntakeEntry.objects.create(customer_name="W", mobile="9829012346")
    rows = [HEADER[:2], ["A", "9829012345"], ["B", "9829012346"], ["C", "9829012347"],
            ["D", "98290 12347"], ["E", "123"]]
    report = do_dry_run(write_csv(rows))
    assert (report.rows, report.valid, report.invalid) == (5, 4, 1)
    assert (report.duplicates_of_leads, report.duplicates_in_queue,
            report.duplicates_in_file) == (1, 1, 1)
    assert report.problems[0].row_number == 6 and report.problems[0].column == "mobile"
    assert IntakeEntry.objects.count() == 1 and not ImportBatch.objects.exists()


def test_preview_shows_the_first_20_rows(write_csv, do_dry_run):
    rows = [HEADER[:2]] + [[f"C{n}", f"98290{n:05d}"] for n in range(30)]
    assert len(do_dry_run(write_csv(rows)).preview) == 20


def test_bad_rows_never_stop_good_ones_and_are_listed(write_csv, do_import):
    rows = [HEADER,
            ["", "9829012345", "", "", "", "", ""],
            ["x" * 10_000, "9829012346", "", "", "", "", ""],
            ["Good", "9829012347", "", "", "", "", ""],
            ["Bad date", "9829012348", "", "", "", "12.01.2026", ""],
            ["Bad reg", "9829012349", "XYZ", "", "", "", ""]]
    batch = do_import(write_csv(rows))
    assert (batch.queued, batch.failed) == (1, 4)
    problems = {p.row_number: p for p in ImportRowProblem.objects.filter(batch=batch)}
    assert problems[2].message == "Enter the customer's name."
    assert "at most 100 characters" in problems[3].message
    assert problems[3].value.endswith("(10,000 characters)")
    assert problems[5].column == "followup_date" and "DD/MM/YYYY" in problems[5].message
    assert problems[6].column == "car_registration" and problems[6].value == "XYZ"
    assert IntakeEntry.objects.get().customer_name == "Good"


def test_row_with_too_many_cells_is_a_row_error(write_file, do_import):
    path = write_file("x.csv", "name,mobile\nA,9829012345,extra\nB,9829012346\n")
    batch = do_import(path)
    problem = ImportRowProblem.objects.get(batch=batch)
    assert problem.row_number == 2 and "3 cells but the header names 2" in problem.message
    assert batch.queued == 1


@pytest.mark.parametrize("content, name, message", [
    (b"", "x.csv", "The file is empty"),
    (b"name,mobile\n", "x.csv", "header row but no data rows"),
    (b"%PDF-1.7\n...", "leads.csv", "is a PDF"),
    (b"name,mobile\n", "leads.pdf", "neither a .csv nor an .xlsx"),
    (b"name,mobile\nA,9829012345\n", "leads.xlsx", "not an Excel .xlsx file"),
    (b"PK\x03\x04zip", "leads.csv", "not a CSV text file"),
    ("name,mobile\nAsha,9829012345\nJos\xe9,9829012346\n".encode("cp1252"), "x.csv",
     "not UTF-8 text: line 3 has the byte 0xE9"),
    (b"name,mobile,name\nA,9829012345,B\n", "x.csv", "Columns 1 and 3 have the same name"),
    (b"name,customer,mobile\nA,B,9829012345\n", "x.csv", "both mean customer_name"),
    (b"name,colour\nA,red\n", "x.csv", "no mobile (or phone, mobile number) column"),
    (b"x.xls", "x.xls", "Old Excel files (.xls)"),
])
def test_bad_files_are_refused_with_a_message(write_file, do_import, content, name, message):
    with pytest.raises(FileRefused, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace(".", r"\.")):
        do_import(write_file(name, content))
    assert not ImportBatch.objects.exists() and not IntakeEntry.objects.exists()


def test_zip_bomb_xlsx_is_refused(tmp_path, do_dry_run):
    import zipfile
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (50 * 1024 * 1024))
    with pytest.raises(FileRefused, match="zip bomb"):
        do_dry_run(path)


def test_row_cap_refuses_declared_and_streamed_rows(write_xlsx, write_csv, do_import):
    path = write_xlsx([["name", "phone"]] + [[f"C{n}", f"98290{n:05d}"] for n in range(6)])
    with pytest.raises(FileRefused, match="declares 6 data rows; at most 5"):
        do_import(path, max_rows=5)
    rows = [["name", "phone"]] + [[f"C{n}", f"98290{n:05d}"] for n in range(6)]
    with pytest.raises(FileRefused, match="more than 5 data rows"):
        do_import(write_csv(rows), max_rows=5)
    assert not IntakeEntry.objects.exists() and not ImportBatch.objects.exists()


def test_same_file_twice_reports_duplicates_not_doubled(write_csv, do_import):
    path = write_csv(GOOD)
    do_import(path)
    second = do_import(path)
    assert (second.queued, second.skipped) == (0, 2)
    assert IntakeEntry.objects.count() == 2


def test_duplicates_create_mode_stores_them_marked(write_csv, do_import):
    lead = LeadFactory(mobile="9829012345")
    rows = [HEADER[:2], ["A", "9829012345"], ["B", "9829012346"], ["C", "9829012346"]]
    batch = do_import(write_csv(rows), duplicates="create")
    assert batch.queued == 3
    a, b, c = IntakeEntry.objects.order_by("row_number")
    assert a.duplicate_of_lead_id == lead.pk
    assert c.duplicate_of_entry_id == b.pk and b.duplicate_of_entry_id is None


def test_owner_column_and_one_user(write_csv, do_import, announced,
                                   django_capture_on_commit_callbacks):
    asha, ravi = UserFactory(username="asha"), UserFactory(username="ravi")
    UserFactory(username="gone", is_active=False)
    ManagerFactory(username="boss")
    rows = [HEADER[:2] + ["owner"], ["A", "9829012341", "Asha"], ["B", "9829012342", ""],
            ["C", "9829012343", "gone"], ["D", "9829012344", "boss"],
            ["E", "9829012345", "nobody"]]
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        batch = do_import(write_csv(rows), assign="user:ravi")
    assert (batch.leads_created, batch.failed, batch.queued) == (2, 3, 0)
    assert dict(Lead.objects.values_list("customer_name", "creator__username")) == {
        "A": "asha", "B": "ravi"}
    lead = Lead.objects.get(customer_name="A")
    assert lead.created_at >= before and lead.followup_date >= before + timedelta(minutes=59)
    assert lead.source == "campaign"
    messages = ImportRowProblem.objects.order_by("row_number").values_list("message", flat=True)
    assert "gone cannot own leads" in messages[0] and "boss cannot own leads" in messages[1]
    assert "No user is called nobody" in messages[2]
    # One announcement for the whole batch, with every owner touched.
    assert announced == [{asha.pk, ravi.pk}]


def test_unknown_or_unavailable_assignment_is_refused(write_csv, do_import):
    path = write_csv(GOOD)
    with pytest.raises(FileRefused, match="cannot receive leads"):
        do_import(path, assign="user:nobody")
    with pytest.raises(FileRefused, match="Unknown assignment"):
        do_import(path, assign="lottery")
    UserFactory(username="asha")
    with pytest.raises(FileRefused, match="cannot receive leads: nobody"):
        do_import(path, assign="round-robin", users=["asha", "nobody"])
    assert not Lead.objects.exists() and not IntakeEntry.objects.exists()


def test_a_crash_leaves_nothing_but_an_incomplete_batch(write_csv, do_import, monkeypatch):
    UserFactory(username="asha")
    rows = [HEADER[:2] + ["owner"]] + [[f"C{n}", f"98290{n:05d}", "asha"] for n in range(5)]

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr("intake.importing.create_leads_from_entries", crash)
    with pytest.raises(RuntimeError):
        do_import(write_csv(rows))
    assert not IntakeEntry.objects.exists() and not Lead.objects.exists()
    batch = ImportBatch.objects.get()
    assert batch.status == BatchStatus.INCOMPLETE
    assert revert_batch(batch).deleted_leads == 0
    batch.refresh_from_db()
    assert batch.status == BatchStatus.REVERTED


def test_a_batch_left_running_by_a_dead_process_becomes_incomplete(write_csv, do_import):
    stale = ImportBatch.objects.create(file_name="old.csv")
    do_import(write_csv(GOOD))
    stale.refresh_from_db()
    assert stale.status == BatchStatus.INCOMPLETE


def test_revert_removes_what_it_created_except_worked_leads(
    write_csv, do_import, announced, django_capture_on_commit_callbacks
):
    asha = UserFactory(username="asha")
    manager = ManagerFactory()
    rows = [HEADER[:2] + ["owner"], ["A", "9829012341", "asha"], ["B", "9829012342", "asha"],
            ["C", "9829012343", "asha"], ["Q", "9829012344", ""]]
    batch = do_import(write_csv(rows))
    worked = Lead.objects.get(customer_name="B")
    services.leads_set_status(leads=Lead.objects.filter(pk=worked.pk), status="confirmed")
    remarked = Lead.objects.get(customer_name="C")
    Lead.objects.filter(pk=remarked.pk).update(remarks="called, wants Monday")
    announced.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = revert_batch(batch, by_user=manager)
    assert result.deleted_leads == 1
    assert sorted(lead.customer_name for lead in result.kept_leads) == ["B", "C"]
    assert sorted(Lead.objects.values_list("customer_name", flat=True)) == ["B", "C"]
    assert sorted(IntakeEntry.objects.values_list("customer_name", flat=True)) == ["B", "C"]
    batch.refresh_from_db()
    assert (batch.status, batch.reverted_by) == (BatchStatus.REVERTED, manager)
    assert announced == [{asha.pk}]
    with pytest.raises(Exception, match="already reverted"):
        revert_batch(batch)


def test_statements_do_not_grow_per_row(write_csv, do_import, django_assert_max_num_queries):
    UserFactory(username="asha")
    rows = [HEADER[:2] + ["owner"]] + [[f"C{n}", f"98290{n:05d}", "asha"] for n in range(300)]
    path = write_csv(rows)
    # people, lock bookkeeping, batch, one chunk's look-ups and writes, counts.
    with django_assert_max_num_queries(40):
        batch = do_import(path)
    assert batch.leads_created == 300


def test_command_dry_run_and_import(write_csv, capsys):
    manager = ManagerFactory(username="boss")
    path = write_csv(GOOD + [["Bad", "1", "", "", "", "", ""]])
    call_command("import_leads", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "Rows: 3; valid 2, invalid 1" in out and "nothing was stored" in out
    assert not IntakeEntry.objects.exists()
    call_command("import_leads", str(path), "--source", "walk-in", "--as", "boss")
    out = capsys.readouterr().out
    assert "2 waiting in the queue" in out and "row 4 failed" in out
    batch = ImportBatch.objects.get()
    assert (batch.created_by, batch.source) == (manager, "walk-in")
    assert set(IntakeEntry.objects.values_list("source", flat=True)) == {"walk-in"}


def test_command_refusals(write_csv, write_file):
    UserFactory(username="asha")
    with pytest.raises(CommandError, match="no active manager"):
        call_command("import_leads", str(write_csv(GOOD)), "--as", "asha")
    with pytest.raises(CommandError, match="is empty"):
        call_command("import_leads", str(write_file("e.csv", b"")))
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_leads", "/nonexistent.csv")


def test_dates_in_other_formats_are_row_errors(write_csv, do_dry_run):
    rows = [["name", "mobile", "followup_date"]] + [
        [f"C{n}", f"98290{n:05d}", value] for n, value in enumerate(
            ["2026-12-01", "01/12/2026 09:15", "01-12-2026", "12/31/2026", "1 Dec 2026",
             "2026-12-01T10:00", "3000-01-01"])]
    report = do_dry_run(write_csv(rows))
    assert (report.valid, report.invalid) == (3, 4)
    first = report.preview[1].clean.values["followup_date"]
    assert timezone.localtime(first).replace(tzinfo=None) == datetime(2026, 12, 1, 9, 15)


def test_closed_leads_are_not_duplicates(write_csv, do_dry_run):
    LeadFactory(mobile="9829012345", status=LeadStatus.COMPLETED)
    assert do_dry_run(write_csv([HEADER[:2], ["A", "9829012345"]])).duplicates == 0


def test_two_imports_at_once_the_second_is_refused(write_csv, do_import):
    from contextlib import ExitStack

    from django.db import connection, connections

    from intake.importing import ImportBusy
    from leads.locks import JOB_LOCK_KEYS, job_lock

    with ExitStack() as stack:
        if connection.vendor == "postgresql":
            # Another process's import: a second session holds the lock (the
            # advisory lock is re-entrant within one session).
            other = connections.create_connection("default")
            stack.callback(other.close)
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [JOB_LOCK_KEYS["import_leads"]])
                assert cursor.fetchone()[0]
        else:
            assert stack.enter_context(job_lock("import_leads"))
        with pytest.raises(ImportBusy, match="Another import is running"):
            do_import(write_csv(GOOD))
    assert not ImportBatch.objects.exists()
    assert do_import(write_csv(GOOD)).queued == 2


def test_xlsx_is_read_once_for_preview_and_import(write_xlsx, do_dry_run, do_import, upload_dir,
                                                  monkeypatch):
    when = datetime(2026, 12, 1, 9, 30)
    path = write_xlsx([["name", "phone", "followup_date"], ["Asha", 9829012345, when]])
    assert do_dry_run(path).valid == 1
    converted = list((upload_dir / "converted").iterdir())
    assert len(converted) == 1
    # The import reads the converted copy, not the workbook.
    monkeypatch.setattr("intake.reading.open_xlsx", lambda *a, **k: pytest.fail("re-read"))
    batch = do_import(path)
    assert batch.queued == 1
    entry = IntakeEntry.objects.get()
    assert timezone.localtime(entry.followup_date).replace(tzinfo=None) == when
    assert not list((upload_dir / "converted").iterdir())


def test_xlsx_without_a_true_dimension_is_capped_while_streaming(
    write_xlsx, do_dry_run, upload_dir, tmp_path
):
    import re
    import zipfile

    made = write_xlsx([["name", "phone"]] + [[f"C{n}", f"98290{n:05d}"] for n in range(6)])
    # A sheet that under-declares its size: the cap must still hold.
    path = tmp_path / "lying.xlsx"
    with zipfile.ZipFile(made) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2"', data)
            target.writestr(item, data)
    with pytest.raises(FileRefused, match="more than 3 data rows"):
        do_dry_run(path, max_rows=3)
    assert (upload_dir / "converted").is_dir()
    assert not list((upload_dir / "converted").iterdir())  # no partial copy kept
    assert do_dry_run(path).rows == 6  # every row is read, whatever the sheet declares


def test_rules_hand_out_the_rows_without_owner(write_csv, do_import, announced,
                                              django_capture_on_commit_callbacks):
    asha, ravi = UserFactory(username="asha"), UserFactory(username="ravi")
    omar = UserFactory(username="omar")
    rows = [HEADER[:2] + ["owner"], ["Z", "9829099999", "omar"]] + [
        [f"C{n}", f"98290{n:05d}", ""] for n in range(4)]
    with django_capture_on_commit_callbacks(execute=True):
        batch = do_import(write_csv(rows), assign="round-robin", users=["asha", "ravi"])
    assert (batch.leads_created, batch.queued) == (5, 0)
    owners = sorted(Lead.objects.exclude(customer_name="Z").values_list("creator_id", flat=True))
    assert owners == sorted([asha.pk, asha.pk, ravi.pk, ravi.pk])
    # The owner column's lead and the rule's: one announcement for the batch.
    assert announced == [{asha.pk, ravi.pk, omar.pk}]
    assert not IntakeEntry.objects.filter(state=EntryState.WAITING).exists()
