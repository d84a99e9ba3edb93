"""python manage.py import_leads FILE [--dry-run] [--source S] [--assign ...]
[--users a,b,c] [--duplicates skip|create] [--sheet NAME] [--as USERNAME]

The command line's way to the file import of /leads/import/ (docs/intake.md):
the same rules, without the page's size and row limits (the file is streamed).
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from intake.errors import FileRefused
from intake.importing import ImportOptions, dry_run, run_import
from leads.people import lead_owners
from leads.permissions import user_sees_all_leads

SHOWN_PROBLEMS = 50


class Command(BaseCommand):
    help = "Import leads from a CSV or XLSX file (a dry run first with --dry-run)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true",
                            help="Check the file and show counts; store nothing.")
        parser.add_argument("--source", default="",
                            help="The leads' source (default: the file name).")
        parser.add_argument("--assign", default="queue",
                            help="queue (default), round-robin, least-loaded or user:USERNAME.")
        parser.add_argument("--users", default="",
                            help="For the rules: who receives leads, a,b,c (default: everyone "
                                 "who can own leads).")
        parser.add_argument("--duplicates", default="skip", choices=("skip", "create"))
        parser.add_argument("--sheet", default="", help="XLSX: the sheet (default: the first).")
        parser.add_argument("--as", dest="as_user", default="",
                            help="Record the import as made by this manager.")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        users = [name.strip() for name in options["users"].split(",") if name.strip()]
        unknown = sorted(set(users) - set(
            lead_owners().filter(username__in=users).values_list("username", flat=True)
        ))
        if unknown:
            raise CommandError(f"--users: {', '.join(unknown)} cannot own leads (not an active "
                               "member of the Telecallers group).")
        import_options = ImportOptions(
            source=options["source"], assign=options["assign"], users=users,
            duplicates=options["duplicates"], sheet=options["sheet"],
        )
        by_user = self._as_user(options["as_user"])
        try:
            if options["dry_run"]:
                self._show_dry_run(dry_run(path, file_name=path.name, options=import_options))
                return
            batch = run_import(path, file_name=path.name, options=import_options, by_user=by_user)
        except FileRefused as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Import {batch.pk} complete: {batch.rows_total} rows; {batch.leads_created} leads "
            f"created, {batch.queued} waiting in the queue, {batch.skipped} skipped as "
            f"duplicates, {batch.failed} failed."
        )
        for problem in batch.problems.order_by("row_number", "pk")[:SHOWN_PROBLEMS]:
            where = f" {problem.column} {problem.value!r}:" if problem.column else ""
            self.stdout.write(
                f"  row {problem.row_number} {problem.kind}:{where} {problem.message}"
            )

    def _as_user(self, username):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None or not user_sees_all_leads(user):
            raise CommandError(f"--as {username}: no active manager has that username.")
        return user

    def _show_dry_run(self, report):
        self.stdout.write(f"Dry run of {report.file_name} ({report.kind}); nothing was stored.")
        columns = ", ".join(f"{header} -> {name}" for name, header in report.columns.items())
        self.stdout.write(f"Columns: {columns}")
        if report.unknown_columns:
            self.stdout.write(f"Ignored columns: {', '.join(report.unknown_columns)}")
        self.stdout.write(
            f"Rows: {report.rows}; valid {report.valid}, invalid {report.invalid}; duplicates "
            f"{report.duplicates} (within the file {report.duplicates_in_file}, of open leads "
            f"{report.duplicates_of_leads}, in the queue {report.duplicates_in_queue})."
        )
        for error in report.problems[:SHOWN_PROBLEMS]:
            self.stdout.write(f"  row {error.row_number} {error.column} {error.value!r}: "
                              f"{error.message}")
