from django.core.management.base import BaseCommand

from leads.locks import job_lock
from leads.management.options import date_option
from leads.services import followup_snapshots_take


class Command(BaseCommand):
    help = (
        "Record each active user's follow-ups due within a business day (default: today in "
        "TIME_ZONE). Run it once early in the day, e.g. 05:00; running it again overwrites. "
        "A second run while one is in progress (on any host) does nothing and exits 0."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the business day, YYYY-MM-DD (default: today)")

    def handle(self, *args, date=None, **options):
        day = date_option(date)
        with job_lock("snapshot_followups") as acquired:
            if not acquired:
                self.stdout.write("snapshot_followups is already running; nothing done.")
                return
            snapshots = followup_snapshots_take(day=day)
        total = sum(snapshot.initial_count for snapshot in snapshots)
        self.stdout.write(
            f"Follow-up snapshot for {day.isoformat()}: {len(snapshots)} user(s), "
            f"{total} follow-up(s)."
        )

