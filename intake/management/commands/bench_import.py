"""python manage.py bench_import [--leads 1000000] [--rows 100000] [--users 25]
[--format csv|xlsx|both] [--tracemalloc]

Times a dry run then an import of a generated file into a table already
holding --leads leads, on PostgreSQL, in a database of its own
(crm_intake_bench_<leads>_<users>), and prints the figures: seconds, peak
RSS of the process, dashboard announcements, and compact_lead_counts
--verify afterwards. Each import is reverted after it is measured, so the
table keeps --leads leads. docs/performance.md records the figures.
"""

import os
import tempfile
import time
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from intake import benchmark
from intake.importing import ImportOptions, dry_run, revert_batch, run_import
from leads.demo_data import (
    ensure_demo_users,
    generate_lead_rows,
    load_leads,
    use_benchmark_database,
)
from leads.models import Lead, LeadCountDelta


class Command(BaseCommand):
    help = "Benchmark the file import (dry run + import) on PostgreSQL."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=1_000_000)
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--users", type=int, default=25, help="telecallers")
        parser.add_argument("--format", choices=("csv", "xlsx", "both"), default="both")
        parser.add_argument("--owner-share", type=float, default=0.5,
                            help="share of rows naming an owner (the rest wait in the queue)")
        parser.add_argument("--tracemalloc", action="store_true",
                            help="also report Python's peak allocations (slower)")
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, leads, rows, users, format, owner_share, tracemalloc, seed,
               **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_import measures PostgreSQL: set DATABASE_URL to a "
                               "PostgreSQL server (it creates a database of its own).")
        self.stdout.write(f"Benchmark database: {self._use_bench_database(leads, users)}")
        owners = self._ensure_data(leads=leads, users=users, seed=seed)
        formats = ("csv", "xlsx") if format == "both" else (format,)
        with tempfile.TemporaryDirectory(prefix="bench-import-") as directory:
            for kind in formats:
                path = Path(directory) / f"campaign-{rows}.{kind}"
                started = time.perf_counter()
                generated = benchmark.generate_rows(count=rows, owners=owners, seed=seed,
                                                    owner_share=owner_share)
                (benchmark.write_csv if kind == "csv" else benchmark.write_xlsx)(path, generated)
                self.stdout.write(
                    f"{kind.upper()}: {rows:,} rows, {path.stat().st_size / 2**20:.1f} MB, "
                    f"written in {time.perf_counter() - started:.1f} s"
                )
                self._measure(path, kind=kind, trace=tracemalloc)

    def _measure(self, path, *, kind, trace):
        options = ImportOptions(source=f"bench-{kind}")
        with benchmark.measuring(trace=trace) as measure:
            with benchmark.timed(measure, "dry_run"):
                report = dry_run(path, file_name=path.name, options=options)
            with benchmark.timed(measure, "import"):
                batch = run_import(path, file_name=path.name, options=options)
        total = measure.seconds["dry_run"] + measure.seconds["import"]
        owners = {owner for owners in measure.announcements for owner in owners}
        self.stdout.write(
            f"  dry run {measure.seconds['dry_run']:.1f} s (valid {report.valid:,}, invalid "
            f"{report.invalid:,}, duplicates {report.duplicates:,}); import "
            f"{measure.seconds['import']:.1f} s (leads {batch.leads_created:,}, queued "
            f"{batch.queued:,}, skipped {batch.skipped:,}, failed {batch.failed:,}); "
            f"end to end {total:.1f} s"
        )
        self.stdout.write(
            f"  this process's CPU: dry run {measure.cpu_seconds['dry_run']:.1f} s, import "
            f"{measure.cpu_seconds['import']:.1f} s; load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        trace_text = (f", tracemalloc peak {measure.tracemalloc_peak_mb:.0f} MB"
                      if measure.tracemalloc_peak_mb is not None else "")
        self.stdout.write(
            f"  memory: RSS {measure.rss_before_mb:.0f} MB before, peak "
            f"{measure.peak_rss_mb:.0f} MB"
            f"{'' if measure.peak_rss_reset else ' (peak of the whole process)'}{trace_text}"
        )
        self.stdout.write(
            f"  dashboard announcements: {len(measure.announcements)} for {len(owners)} owners"
        )
        call_command("compact_lead_counts", "--verify", stdout=self.stdout)
        started = time.perf_counter()
        result = revert_batch(batch)
        self.stdout.write(f"  reverted in {time.perf_counter() - started:.1f} s "
                          f"({result.deleted_leads:,} leads removed)")

    def _use_bench_database(self, leads, users):
        return use_benchmark_database(f"crm_intake_bench_{leads}_{users}")

    def _ensure_data(self, *, leads, users, seed):
        _, telecallers = ensure_demo_users(telecallers=users)
        if Lead.objects.count() != leads:
            self.stdout.write(f"Loading {leads:,} leads for {users} telecallers …")
            Lead.objects.all().delete()
            started = time.perf_counter()
            load_leads(rows=generate_lead_rows(count=leads, creator_ids=[u.pk for u in telecallers],
                                               seed=seed))
            self.stdout.write(f"Loaded in {time.perf_counter() - started:.1f} s")
            LeadCountDelta.objects.compact()
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE leads_lead")
        return [user.username for user in telecallers]
