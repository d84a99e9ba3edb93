import argparse
import time
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone

from dashboard import benchmark
from leads.demo_data import (
    ensure_demo_users,
    generate_lead_rows,
    load_leads,
    use_benchmark_database,
)
from leads.models import Lead, LeadCountDelta, LeadDayDelta


def _positive_ints(value):
    """"100000,1000000" -> [100000, 1000000]."""
    try:
        numbers = [int(part) for part in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers separated by commas, got {value!r}") from None
    if any(number < 1 for number in numbers):
        raise argparse.ArgumentTypeError(f"every number must be positive, got {value!r}")
    return numbers


class Command(BaseCommand):
    help = (
        "Benchmark the manager and telecaller dashboards (baseline, cold, warm, peak memory "
        "of a cold request) and the admin/search pages on generated data sets, each in a "
        "database of its own. Several sizes (--leads 100000,1000000 --users 25,500) end "
        "with one table over all of them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=_positive_ints, default=[1_000_000],
                            help="one size or several separated by commas (default 1000000)")
        parser.add_argument("--users", type=_positive_ints, default=[25],
                            help="telecallers: one count or several separated by commas")
        parser.add_argument("--repeat", type=int, default=20)
        parser.add_argument("--baseline-repeat", type=int, default=3,
                            help="the baseline is slow: fewer runs (default 3; 0 skips it)")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--json", dest="json_path", help="also write the figures here")
        parser.add_argument(
            "--database-prefix", default="crm_bench",
            help="PostgreSQL: the data set lives in <prefix>_<leads>_<users> (default crm_bench)",
        )
        parser.add_argument(
            "--calls", type=int, default=0,
            help="also load this many calls (calls app), in a database of its own "
                 "(<prefix>_<leads>_<users>_<calls>calls); default 0: no calls")
        parser.add_argument("--call-days", type=int, default=1000,
                            help="the calls are spread over this many days (default 1000)")

    def handle(self, *args, leads, users, repeat, baseline_repeat, seed, json_path,
               database_prefix, calls, call_days, **options):
        if repeat < 1 or baseline_repeat < 0:
            raise CommandError("--repeat must be positive and --baseline-repeat at least 0.")
        if calls < 0 or call_days < 1:
            raise CommandError("--calls must be 0 or more and --call-days positive.")
        vendor = connection.vendor
        if vendor == "sqlite" and max(leads) > benchmark.SQLITE_MAX_LEADS:
            raise CommandError(
                f"SQLite is the embedded default, not a benchmark target: it is limited to "
                f"{benchmark.SQLITE_MAX_LEADS:,} leads here. Set DATABASE_URL to a PostgreSQL "
                f"database for {max(leads):,} leads."
            )
        # The real views render {% static %}: with DEBUG off that needs the
        # collected manifest, as `make serve` prepares it.
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        runs, documents = [], []
        for lead_count in leads:
            for user_count in users:
                figures, meta = self._one_data_set(
                    vendor=vendor, leads=lead_count, users=user_count, repeat=repeat,
                    baseline_repeat=baseline_repeat, seed=seed, prefix=database_prefix,
                    calls=calls, call_days=call_days,
                )
                runs.append((lead_count, user_count, figures))
                documents.append({**meta, **figures})
        if len(runs) > 1:
            self.stdout.write("")
            self.stdout.write(benchmark.format_curve(runs, vendor=vendor))
        if json_path:
            benchmark.write_json(json_path, {"runs": documents} if len(runs) > 1 else documents[0])
            self.stdout.write(f"Figures written to {json_path}")

    def _one_data_set(self, *, vendor, leads, users, repeat, baseline_repeat, seed, prefix,
                      calls, call_days):
        name = self._use_bench_database(vendor, leads, users, prefix, calls)
        self.stdout.write(f"Benchmark database: {name}")
        manager, telecaller, staff = self._ensure_data(leads=leads, users=users, seed=seed)
        if calls:
            self._ensure_calls(calls=calls, days=call_days, seed=seed)
        # Another data set's entries must not answer for this one.
        cache.clear()
        day = timezone.localdate()
        search_mobile = self._formatted_mobile(telecaller)
        figures = benchmark.run(
            manager=manager, telecaller=telecaller, staff=staff, day=day, repeat=repeat,
            baseline_repeat=baseline_repeat, search_mobile=search_mobile,
            log=lambda line: self.stderr.write(line),
        )
        self.stdout.write(benchmark.format_table(figures, leads=leads, users=users, vendor=vendor))
        meta = {"leads": leads, "users": users, "vendor": vendor, "database": name,
                "day": day.isoformat()}
        return figures, meta

    def _use_bench_database(self, vendor, leads, users, prefix, calls=0):
        """Point the default connection at a database named after the data set
        (created when missing) and migrate it."""
        if vendor == "postgresql":
            name = f"{prefix}_{leads}_{users}" + (f"_{calls}calls" if calls else "")
        else:
            suffix = f"-{calls}-calls" if calls else ""
            name = str(settings.BASE_DIR / f"bench-{leads}-{users}{suffix}.sqlite3")
        return use_benchmark_database(name)

    def _ensure_data(self, *, leads, users, seed):
        # Benchmark logins use force_login: a fast hasher spares the
        # production hasher's cost for hundreds of demo users.
        with override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
        ):
            _, telecallers = ensure_demo_users(telecallers=users)
        owners = [user.pk for user in telecallers]
        creators = set(Lead.objects.order_by().values_list("creator_id", flat=True).distinct())
        if Lead.objects.count() != leads or not creators <= set(owners):
            self.stdout.write(f"Loading {leads:,} leads for {users} telecallers …")
            started = time.perf_counter()
            self._empty_lead_table()
            with self._without_lead_indexes():
                load_leads(rows=generate_lead_rows(count=leads, creator_ids=owners, seed=seed,
                                                   backlog=True))
                loaded = time.perf_counter() - started
            self.stdout.write(
                f"Loaded in {time.perf_counter() - started:.1f} s ({loaded:.1f} s for the rows "
                f"and their counters, the rest rebuilding the lead indexes)"
            )
        else:
            self.stdout.write(f"Reusing {leads:,} leads for {users} telecallers.")
        # Fold the counters' delta rows, as the scheduled compaction does.
        LeadCountDelta.objects.compact()
        LeadDayDelta.objects.compact()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for table in ("leads_lead", "leads_leadcountdelta", "leads_leaddaydelta"):
                    cursor.execute(f"VACUUM ANALYZE {table}")
        User = get_user_model()
        return (User.objects.get(username="manager"), telecallers[0],
                User.objects.get(username="admin"))

    def _ensure_calls(self, *, calls, days, seed):
        from calls.demo_data import generate_call_rows, load_calls
        from calls.models import CallLog

        if CallLog.objects.count() == calls:
            self.stdout.write(f"Reusing {calls:,} calls.")
        else:
            self.stdout.write(f"Loading {calls:,} calls over {days} days …")
            CallLog.objects.all().delete()
            bounds = Lead.objects.order_by("pk").values_list("pk", flat=True)
            callers = list(Lead.objects.order_by().values_list("creator_id", flat=True)
                           .distinct())
            started = time.perf_counter()
            load_calls(rows=generate_call_rows(
                count=calls, lead_ids=(bounds.first(), bounds.last()), caller_ids=callers,
                days=days, seed=seed))
            self.stdout.write(f"Loaded in {time.perf_counter() - started:.1f} s")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE calls_calllog")

    @staticmethod
    def _empty_lead_table():
        if connection.vendor == "postgresql":
            # The counters' TRUNCATE triggers empty them too.
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE leads_lead CASCADE")
        else:
            Lead.objects.all().delete()

    @staticmethod
    @contextmanager
    def _without_lead_indexes():
        """PostgreSQL: load into the bare table and build the lead indexes
        afterwards, several times faster than keeping them up row by row (on
        SQLite, limited to small sets, nothing changes)."""
        if connection.vendor != "postgresql":
            yield
            return
        indexes = Lead._meta.indexes
        with connection.schema_editor() as editor:
            for index in indexes:
                editor.remove_index(Lead, index)
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '512MB'")
            with connection.schema_editor() as editor:
                for index in indexes:
                    editor.add_index(Lead, index)

    @staticmethod
    def _formatted_mobile(user):
        """A mobile to search for, typed the way people do; the telecaller's
        own when they have a lead (with fewer leads than users some don't)."""
        mobiles = Lead.objects.values_list("mobile", flat=True)
        mobile = mobiles.filter(creator=user).first() or mobiles.first()
        return f"+91 {mobile[:5]}-{mobile[5:]}"
