"""Importing a file of leads: the dry run (a preview and counts) and the
import itself (one batch, atomic as others see it), and reverting a batch.

Both passes stream the file (intake.reading) in chunks of CHUNK_ROWS rows:
each chunk costs two duplicate look-ups and, when importing, a few INSERTs;
never a query per row. The only thing kept for the whole file is the set of
mobiles seen so far (duplicates within the file).
"""

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from intake import assignment
from intake.columns import match_columns
from intake.errors import FileRefused
from intake.models import (
    BatchStatus,
    EntryState,
    ImportBatch,
    ImportRowProblem,
    IntakeEntry,
    ProblemKind,
)
from intake.reading import HEADER_ONLY, forget_converted, open_table
from intake.rows import RowCleaner
from intake.services import chunks, create_leads_from_entries, insert_quietly
from leads.locks import job_lock
from leads.models import LEAD_TAG_MAX_CHARS, Lead, LeadStatus, WorkedLead
from leads.people import lead_owners
from leads.signals import announce_leads_changed, batched_announcements

CHUNK_ROWS = 2000
PREVIEW_ROWS = 20
# Problems a dry run shows (the import stores them all).
PREVIEW_PROBLEMS = 100
ASSIGN_MODES = ("queue", "round-robin", "least-loaded", "user:USERNAME")
# Rows without an owner go into the queue, then intake.assignment hands them out.
RULE_MODES = ("round-robin", "least-loaded")
DUPLICATE_MODES = ("skip", "create")
# A lead changed this long after it was created was worked by someone.
WORKED_AFTER = timedelta(minutes=1)


@dataclass
class ImportOptions:
    source: str = ""  # blank: from the file name
    assign: str = "queue"
    users: list = field(default_factory=list)
    duplicates: str = "skip"
    sheet: str = ""


def converted_dir():
    """Where XLSX files read once wait for their import (intake.reading)."""
    return Path(settings.INTAKE_UPLOAD_DIR) / "converted"


def source_for(file_name, source):
    if source.strip():
        return source.strip()[:LEAD_TAG_MAX_CHARS]
    return Path(file_name).stem.strip()[:LEAD_TAG_MAX_CHARS] or "import"


def _people():
    owners = {name.lower(): pk for pk, name in lead_owners().values_list("pk", "username")}
    others = {name.lower() for name in get_user_model().objects.values_list("username", flat=True)}
    return owners, others


def check_options(options):
    """The owner every row without an owner column value gets (a user id), or
    None for the queue; FileRefused for options that cannot be used."""
    if options.duplicates not in DUPLICATE_MODES:
        raise FileRefused(f"--duplicates must be skip or create; got {options.duplicates!r}.")
    assign = options.assign.strip()
    if assign == "queue":
        return None
    if assign in RULE_MODES:
        named = {name.strip().lower() for name in options.users if name.strip()}
        known = {name.lower() for name in lead_owners().values_list("username", flat=True)}
        if unknown := sorted(named - known):
            # Never hand the leads to fewer people than the manager named, silently.
            raise FileRefused(
                f"--users names people who cannot receive leads: {', '.join(unknown)}. Name "
                "active members of the Telecallers group, or leave --users out for all of them."
            )
        return None  # into the queue, then distributed by the rule
    if assign.startswith("user:"):
        username = assign.removeprefix("user:").strip()
        owner = lead_owners().filter(username=username).values_list("pk", flat=True).first()
        if owner is None:
            raise FileRefused(
                f"{username or '(nobody)'} cannot receive leads: name an active member of the "
                "Telecallers group (--assign user:USERNAME)."
            )
        return owner
    raise FileRefused(
        f"Unknown assignment {assign!r}: use queue, round-robin, least-loaded or user:USERNAME."
    )


@dataclass
class ScannedRow:
    clean: object  # intake.rows.CleanRow
    duplicate_of_row: int | None = None
    duplicate_of_lead: int | None = None
    duplicate_of_entry: int | None = None

    @property
    def is_duplicate(self):
        return bool(self.duplicate_of_row or self.duplicate_of_lead or self.duplicate_of_entry)

    def duplicate_message(self):
        if self.duplicate_of_row:
            return f"Same mobile as row {self.duplicate_of_row} of this file."
        if self.duplicate_of_lead:
            return f"Same mobile as open lead #{self.duplicate_of_lead}."
        return f"Same mobile as queue entry #{self.duplicate_of_entry}, still waiting."


class FileScan:
    """The rows of one file, cleaned and checked for duplicates, chunk by chunk."""

    def __init__(self, path, *, file_name, options, max_rows=None):
        self.file_name = file_name
        self.max_rows = max_rows
        self.table = open_table(path, file_name=file_name, sheet=options.sheet or None,
                                converted_dir=converted_dir())
        if max_rows is not None and (self.table.declared_rows or 0) > max_rows:
            raise FileRefused(
                f"“{file_name}” declares {self.table.declared_rows:,} data rows; at most "
                f"{max_rows:,} are taken here. Split the file (or import it with the "
                "import_leads command)."
            )
        self.columns = match_columns(self.table.header)
        owners, others = _people()
        self.cleaner = RowCleaner(
            self.columns, source=source_for(file_name, options.source),
            owners=owners, other_users=others,
        )
        self.rows_read = 0
        self._seen = {}  # mobile -> the row number it first appeared on

    def _data_rows(self):
        for row_number, cells in self.table.rows:
            if not any(str(cell).strip() for cell in cells):
                continue  # blank rows separate nothing and are not counted
            self.rows_read += 1
            if self.max_rows is not None and self.rows_read > self.max_rows:
                raise FileRefused(
                    f"“{self.file_name}” has more than {self.max_rows:,} data rows; at most "
                    f"{self.max_rows:,} are taken here. Split the file (or import it with "
                    "the import_leads command). Nothing was imported."
                )
            yield row_number, cells

    def chunks(self):
        for chunk in chunks(self._data_rows(), CHUNK_ROWS):
            rows = [ScannedRow(self.cleaner.clean(n, cells)) for n, cells in chunk]
            valid = [row for row in rows if not row.clean.errors]
            mobiles = {row.clean.values["mobile"] for row in valid}
            open_leads = dict(
                Lead.objects.not_closed().filter(mobile__in=mobiles).order_by()
                .values_list("mobile", "pk")
            ) if mobiles else {}
            waiting = dict(
                IntakeEntry.objects.waiting().filter(mobile__in=mobiles).order_by("pk")
                .values_list("mobile", "pk")
            ) if mobiles else {}
            for row in valid:
                mobile = row.clean.values["mobile"]
                if mobile in self._seen:
                    row.duplicate_of_row = self._seen[mobile]
                else:
                    self._seen[mobile] = row.clean.row_number
                row.duplicate_of_lead = open_leads.get(mobile)
                row.duplicate_of_entry = waiting.get(mobile)
            yield rows
        if self.rows_read == 0:
            raise FileRefused(HEADER_ONLY)


@dataclass
class DryRunReport:
    file_name: str
    kind: str
    columns: dict  # field -> header text
    unknown_columns: list
    source: str
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    duplicates_in_file: int = 0
    duplicates_of_leads: int = 0
    duplicates_in_queue: int = 0
    preview: list = field(default_factory=list)  # ScannedRow
    problems: list = field(default_factory=list)  # RowError

    @property
    def duplicates(self):
        return self.duplicates_in_file + self.duplicates_of_leads + self.duplicates_in_queue


def dry_run(path, *, file_name, options, max_rows=None):
    """Read and check the whole file, store nothing; a DryRunReport."""
    check_options(options)
    scan = FileScan(path, file_name=file_name, options=options, max_rows=max_rows)
    report = DryRunReport(
        file_name=file_name, kind=scan.table.kind,
        columns={name: scan.columns.header_of(name) for name in scan.columns.positions},
        unknown_columns=scan.columns.unknown, source=scan.cleaner.source,
    )
    for rows in scan.chunks():
        for row in rows:
            report.rows += 1
            if len(report.preview) < PREVIEW_ROWS:
                report.preview.append(row)
            if row.clean.errors:
                report.invalid += 1
                room = PREVIEW_PROBLEMS - len(report.problems)
                report.problems.extend(row.clean.errors[:max(room, 0)])
                continue
            report.valid += 1
            if row.duplicate_of_row:
                report.duplicates_in_file += 1
            elif row.duplicate_of_lead:
                report.duplicates_of_leads += 1
            elif row.duplicate_of_entry:
                report.duplicates_in_queue += 1
    return report


class ImportBusy(FileRefused):
    pass


def _problem(batch, kind, row, error=None, message=None):
    return ImportRowProblem(
        batch=batch, kind=kind, row_number=row.clean.row_number,
        column=error.column if error else "", value=error.value if error else "",
        message=error.message if error else message,
        cells=[c.isoformat() if hasattr(c, "isoformat") else c for c in row.clean.cells],
    )


def _entry(batch, row, received_at):
    values = row.clean.values
    return IntakeEntry(
        batch=batch, row_number=row.clean.row_number, received_at=received_at,
        customer_name=values["customer_name"], mobile=values["mobile"],
        car_registration=values.get("car_registration", ""),
        car_model=values.get("car_model", ""), service_type=values.get("service_type", ""),
        remarks=values.get("remarks", ""), followup_date=values.get("followup_date"),
        source=values["source"],
        duplicate_of_lead_id=row.duplicate_of_lead,
        duplicate_of_entry_id=row.duplicate_of_entry,
    )


def run_import(path, *, file_name, options, by_user=None, max_rows=None):
    """Import the file as one batch; return the ImportBatch (complete).

    Everything (entries, leads, problems, the batch's counts) is written in
    one transaction: others see the whole batch or nothing. The batch row is
    committed first as `running`, so a crash leaves it visible; the next
    import marks it `incomplete` (holding nothing: revert it, or import the
    file again). FileRefused when the whole file cannot be imported (nothing
    stored, no batch kept); ImportBusy when another import is running.
    """
    default_owner = check_options(options)
    with job_lock("import_leads") as acquired:
        if not acquired:
            raise ImportBusy(
                "Another import is running: wait until it has finished, then import again "
                "(nothing of this file was imported)."
            )
        mark_stopped_batches()
        batch = ImportBatch.objects.create(
            created_by=by_user, file_name=file_name[:255], assign=options.assign,
            duplicates=options.duplicates, source=source_for(file_name, options.source),
            options={"users": list(options.users), "sheet": options.sheet},
        )
        try:
            _fill_batch(batch, path, file_name=file_name, options=options, by_user=by_user,
                        default_owner=default_owner, max_rows=max_rows)
            forget_converted(path, sheet=options.sheet or None, converted_dir=converted_dir())
        except FileRefused:
            batch.delete()
            raise
        except BaseException:
            ImportBatch.objects.filter(pk=batch.pk).update(
                status=BatchStatus.INCOMPLETE, finished_at=timezone.now()
            )
            raise
    return batch


def _fill_batch(batch, path, *, file_name, options, by_user, default_owner, max_rows):
    received_at = batch.created_at
    owners_touched = set()
    # The rule below announces the owners it hands leads to; merged with the
    # import's own announcement, the batch invalidates each owner once.
    with transaction.atomic(), batched_announcements():
        scan = FileScan(path, file_name=file_name, options=options, max_rows=max_rows)
        batch.source = scan.cleaner.source
        # For the failed-rows CSV: the rows as they came, under their header.
        batch.options["header"] = [str(cell) for cell in scan.table.header]
        first_entry_of = {}  # mobile -> entry pk, for duplicates within the file
        for rows in scan.chunks():
            problems, entries, stored_rows = [], [], []
            for row in rows:
                batch.rows_total += 1
                if row.clean.errors:
                    batch.failed += 1
                    problems.extend(_problem(batch, ProblemKind.FAILED, row, error)
                                    for error in row.clean.errors)
                elif row.is_duplicate and options.duplicates == "skip":
                    batch.skipped += 1
                    problems.append(_problem(batch, ProblemKind.SKIPPED, row,
                                             message=row.duplicate_message()))
                else:
                    entries.append(_entry(batch, row, received_at))
                    stored_rows.append(row)
            insert_quietly(IntakeEntry, entries)
            insert_quietly(ImportRowProblem, problems)
            _link_duplicates_in_file(entries, stored_rows, first_entry_of)
            owners = {}
            for entry, row in zip(entries, stored_rows, strict=True):
                owner = row.clean.owner_id or default_owner
                if owner is not None:
                    owners[entry.pk] = owner
            if owners:
                leads = create_leads_from_entries(
                    [e for e in entries if e.pk in owners], owners, by_user=by_user,
                    rule="import", announce=False,
                )
                owners_touched.update(lead.creator_id for lead in leads)
                batch.leads_created += len(leads)
            batch.queued += len(entries) - len(owners)
        if options.assign in RULE_MODES:
            _distribute(batch, options, by_user)
        batch.status = BatchStatus.COMPLETE
        batch.finished_at = timezone.now()
        batch.save()
        if owners_touched:
            # Once for the whole batch, with every owner who received leads.
            announce_leads_changed(Lead, owner_ids=owners_touched)


def _distribute(batch, options, by_user):
    """Hand the batch's waiting entries out by the rule, in the batch's
    transaction (the rule announces its owners itself)."""
    users = None
    if options.users:
        users = list(get_user_model().objects.filter(username__in=options.users))
    waiting = IntakeEntry.objects.filter(batch=batch, state=EntryState.WAITING).order_by("pk")
    try:
        result = assignment.assign_entries(waiting, options.assign, users=users,
                                           by_user=by_user)
    except assignment.DistributionError as exc:
        raise FileRefused(
            f"The leads could not be handed out: {exc} Nothing was imported."
        ) from None
    batch.leads_created += result.assigned
    batch.queued -= result.assigned


def _link_duplicates_in_file(entries, rows, first_entry_of):
    later = []
    for entry, row in zip(entries, rows, strict=True):
        mobile = entry.mobile
        if mobile not in first_entry_of:
            first_entry_of[mobile] = entry.pk
        elif row.duplicate_of_row:
            entry.duplicate_of_entry_id = first_entry_of[mobile]
            later.append(entry)
    if later:
        IntakeEntry.objects.bulk_update(later, ["duplicate_of_entry"], batch_size=500)


def mark_stopped_batches():
    """Batches still `running` while no import runs were stopped by a crash:
    mark them `incomplete`. Call only while holding the import lock."""
    return ImportBatch.objects.filter(status=BatchStatus.RUNNING).update(
        status=BatchStatus.INCOMPLETE
    )


class RevertRefused(Exception):
    pass


@dataclass
class RevertResult:
    deleted_leads: int
    deleted_entries: int
    kept_leads: list  # Lead, worked since the import: left alone


def worked_since_created():
    """Leads someone has worked since they were created (a condition on Lead,
    joined to the entry it came from)."""
    return (
        ~Q(status=LeadStatus.NEEDS_FOLLOWUP)
        | ~Q(remarks=F("intake_entries__remarks"))
        | Q(modified_at__gt=F("created_at") + WORKED_AFTER)
        | Q(Exists(WorkedLead.objects.filter(lead=OuterRef("pk"))))
    )


def revert_batch(batch, *, by_user=None):
    """Remove what `batch` created: its waiting entries and the leads made
    from its entries, except leads worked since (kept, with their entries,
    and listed). RevertRefused when it is already reverted or still running."""
    with job_lock("import_leads") as acquired:
        if not acquired:
            raise RevertRefused("An import is running: revert when it has finished.")
        mark_stopped_batches()
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
            if batch.status == BatchStatus.REVERTED:
                raise RevertRefused(f"Import {batch.pk} was already reverted.")
            batch_leads = Lead.objects.filter(intake_entries__batch=batch)
            kept = list(batch_leads.filter(worked_since_created()).select_related("creator")
                        .distinct().order_by("pk"))
            doomed = list(batch_leads.exclude(pk__in=[lead.pk for lead in kept])
                          .values_list("pk", "creator_id"))
            entries = IntakeEntry.objects.filter(batch=batch).exclude(
                state=EntryState.ASSIGNED, lead__in=batch_leads.filter(worked_since_created())
            )
            deleted_entries, _ = entries.delete()
            owners = set()
            for chunk in chunks(doomed, 900):
                # A plain QuerySet: one announcement below, not one per chunk.
                models.QuerySet(Lead).filter(pk__in=[pk for pk, _ in chunk]).delete()
                owners.update(owner for _, owner in chunk)
            batch.status = BatchStatus.REVERTED
            batch.reverted_at = timezone.now()
            batch.reverted_by = by_user
            batch.save()
            if owners:
                announce_leads_changed(Lead, owner_ids=owners)
    return RevertResult(deleted_leads=len(doomed), deleted_entries=deleted_entries,
                        kept_leads=kept)
