import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.utils import timezone

from dashboard import benchmark
from leads.demo_data import ensure_demo_users, generate_lead_rows, load_leads
from leads.models import Lead, LeadCountDelta


class Command(BaseCommand):
    help = (
        "Benchmark the manager and telecaller dashboards (baseline, cold, warm) and the "
        "admin/search pages on a generated data set in a database of its own."
    )

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=1_000_000)
        parser.add_argument("--users", type=int, default=25, help="telecallers")
        parser.add_argument("--repeat", type=int, default=20)
        parser.add_argument("--baseline-repeat", type=int, default=3,
                            help="the baseline is slow: fewer runs (default 3)")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--json", dest="json_path", help="also write the figures here")
        parser.add_argument(
            "--calls", type=int, default=0,
            help="also load this many calls (calls app), in a database of its own "
                 "(crm_calls_<leads>_<users>_<calls>); default 0: no calls")
        parser.add_argument("--call-days", type=int, default=1000,
                            help="the calls are spread over this many days (default 1000)")

    def handle(self, *args, leads, users, repeat, baseline_repeat, seed, json_path, calls,
               call_days, **options):
        if leads < 1 or users < 1 or repeat < 1 or baseline_repeat < 1:
            raise CommandError("--leads, --users, --repeat and --baseline-repeat must be positive.")
        if calls < 0 or call_days < 1:
            raise CommandError("--calls must be 0 or more and --call-days positive.")
        vendor = connection.vendor
        if vendor == "sqlite" and leads > benchmark.SQLITE_MAX_LEADS:
            raise CommandError(
                f"SQLite is the embedded default, not a benchmark target: it is limited to "
                f"{benchmark.SQLITE_MAX_LEADS:,} leads here. Set DATABASE_URL to a PostgreSQL "
                f"database for {leads:,} leads."
            )
        # The real views render {% static %}: with DEBUG off that needs the
        # collected manifest, as `make serve` prepares it.
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        name = self._use_bench_database(vendor, leads, users, calls)
        self.stdout.write(f"Benchmark database: {name}")
        manager, telecaller, staff = self._ensure_data(leads=leads, users=users, seed=seed)
        if calls:
            self._ensure_calls(calls=calls, days=call_days, seed=seed)

        day = timezone.localdate()
        search_mobile = self._formatted_mobile(telecaller)
        figures = benchmark.run(
            manager=manager, telecaller=telecaller, staff=staff, day=day, repeat=repeat,
            baseline_repeat=baseline_repeat, search_mobile=search_mobile,
            log=lambda line: self.stderr.write(line),
        )
        self.stdout.write(benchmark.format_table(figures, leads=leads, users=users, vendor=vendor))
        if json_path:
            benchmark.write_json(json_path, figures, leads=leads, users=users, vendor=vendor,
                                 database=name, day=day.isoformat())
            self.stdout.write(f"Figures written to {json_path}")

    def _use_bench_database(self, vendor, leads, users, calls=0):
        """Point the default connection at a database named after the data set
        (created when missing) and migrate it."""
        default = connections["default"]
        if vendor == "postgresql":
            name = f"crm_calls_{leads}_{users}_{calls}" if calls else f"crm_bench_{leads}_{users}"
            with default.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
        else:
            suffix = f"-{calls}-calls" if calls else ""
            name = str(settings.BASE_DIR / f"bench-{leads}-{users}{suffix}.sqlite3")
        default.close()
        settings.DATABASES["default"]["NAME"] = name
        default.settings_dict["NAME"] = name
        call_command("migrate", verbosity=0, interactive=False)
        return name

    def _ensure_data(self, *, leads, users, seed):
        _, telecallers = ensure_demo_users(telecallers=users)
        owners = [user.pk for user in telecallers]
        creators = set(Lead.objects.order_by().values_list("creator_id", flat=True).distinct())
        if Lead.objects.count() != leads or not creators <= set(owners):
            self.stdout.write(f"Loading {leads:,} leads for {users} telecallers …")
            Lead.objects.all().delete()
            started = time.perf_counter()
            load_leads(rows=generate_lead_rows(count=leads, creator_ids=owners, seed=seed))
            self.stdout.write(f"Loaded in {time.perf_counter() - started:.1f} s")
        else:
            self.stdout.write(f"Reusing {leads:,} leads for {users} telecallers.")
        # Fold the counters' delta rows, as the scheduled compaction does.
        LeadCountDelta.objects.compact()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE leads_lead")
                cursor.execute("VACUUM ANALYZE leads_leadcountdelta")
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
    def _formatted_mobile(user):
        """A mobile to search for, typed the way people do; the telecaller's
        own when they have a lead (with fewer leads than users some don't)."""
        mobiles = Lead.objects.values_list("mobile", flat=True)
        mobile = mobiles.filter(creator=user).first() or mobiles.first()
        return f"+91 {mobile[:5]}-{mobile[5:]}"
