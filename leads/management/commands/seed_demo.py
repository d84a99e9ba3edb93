import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max

from leads.demo_data import (
    HISTORY_DAYS,
    ensure_demo_users,
    generate_lead_rows,
    load_leads,
    load_work_history,
)
from leads.models import Lead, WorkedLead


class Command(BaseCommand):
    help = (
        "Create demo users (admin, manager, telecallers), realistic leads and their last "
        f"{HISTORY_DAYS} days of recorded work (work log, start-of-day snapshots), "
        "deterministically for a seed and a day. Local use only: refuses DEBUG off without "
        "--force."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument("--leads", type=int, default=5000, help="leads to add (default 5000)")
        parser.add_argument("--users", type=int, default=8, help="telecallers (default 8)")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the database already has leads"
        )
        parser.add_argument(
            "--force", action="store_true", help="run even with DEBUG off (demo passwords!)"
        )

    def handle(self, *args, seed, leads, users, if_empty, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with well-known demo passwords and runs only with "
                "DJANGO_DEBUG=1. Pass --force if you really want them in this database."
            )
        if leads < 0 or users < 1:
            raise CommandError("--leads must be 0 or more and --users at least 1.")
        logins, telecallers = ensure_demo_users(telecallers=users)
        if if_empty and Lead.objects.exists():
            self.stdout.write("Leads already present: demo leads not loaded.")
            self._print_logins(logins)
            return

        started = time.perf_counter()
        creator_ids = [user.pk for user in telecallers]
        after_pk = Lead.objects.aggregate(last=Max("pk"))["last"] or 0
        written = load_leads(
            rows=generate_lead_rows(count=leads, creator_ids=creator_ids, seed=seed)
        )
        worked, snapshots = load_work_history(after_pk=after_pk, creator_ids=creator_ids,
                                              seed=seed)
        calls = self._load_calls(after_pk=after_pk, seed=seed)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Loaded {written} leads for {users} telecallers, {worked} work-log rows, "
            f"{calls} calls and {snapshots} start-of-day snapshots in {elapsed:.1f} s."
        )
        self._print_logins(logins)

    def _load_calls(self, *, after_pk, seed):
        """The call behind each piece of recorded work, so the first dashboard
        shows calling numbers too. The demo composes every app's data: the
        only place under leads/ that knows the calls app."""
        from calls.demo_data import generate_demo_calls, load_calls

        # A list, read before the COPY starts: on PostgreSQL a query cannot
        # run on the connection while it streams a COPY (it would wait forever).
        work = list(WorkedLead.objects.filter(lead_id__gt=after_pk).order_by("pk")
                    .values_list("lead_id", "user_id", "kind", "worked_at", "lead__status"))
        return load_calls(rows=generate_demo_calls(work=work, seed=seed))

    def _print_logins(self, logins):
        self.stdout.write("Demo logins (local use only):")
        for login in logins:
            self.stdout.write(f"  {login.role:<11} {login.username} / {login.password}")
