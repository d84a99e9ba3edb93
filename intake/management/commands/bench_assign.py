import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from intake.assignment import assign_entries
from intake.models import IntakeEntry
from leads.distribution import normalize_rule
from leads.people import TELECALLERS_GROUP


class _RolledBack(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Benchmark assigning waiting queue entries: creates USERS telecallers and ENTRIES "
        "waiting entries, assigns them by the rule, prints the time and statement count, "
        "then rolls everything back (nothing stays in the database)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--entries", type=int, default=10_000)
        parser.add_argument("--users", type=int, default=25)
        parser.add_argument("--rule", default="round-robin",
                            help="round-robin (default) or least-loaded")

    def handle(self, *args, entries, users, rule, **options):
        if entries < 1 or users < 1:
            raise CommandError("--entries and --users must be positive.")
        try:
            rule = normalize_rule(rule)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        try:
            with transaction.atomic():
                self._run(entries, users, rule)
                raise _RolledBack
        except _RolledBack:
            pass

    def _run(self, entries, users, rule):
        group, _ = Group.objects.get_or_create(name=TELECALLERS_GROUP)
        people = get_user_model().objects.bulk_create([
            get_user_model()(username=f"bench-assign-{n:03d}", password="!")
            for n in range(users)
        ])
        people = list(get_user_model().objects.filter(username__startswith="bench-assign-"))
        group.user_set.add(*people)
        received = timezone.now()
        IntakeEntry.objects.bulk_create(
            [IntakeEntry(customer_name=f"Bench {n}", mobile=f"9{n % 10**9:09d}",
                         source="bench", received_at=received) for n in range(entries)],
            batch_size=2000,
        )
        waiting = IntakeEntry.objects.waiting().filter(source="bench").order_by("received_at",
                                                                                 "pk")
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            result = assign_entries(waiting, rule, users=people)
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"{connection.vendor}: assigned {result.assigned:,} of {entries:,} waiting entries "
            f"{rule} to {users} users in {seconds:.2f} s, {len(captured)} SQL statements "
            f"(rolled back)"
        )
