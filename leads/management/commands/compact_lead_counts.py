import time

from django.core.management.base import BaseCommand, CommandError

from leads.locks import job_lock
from leads.models import LeadCountDelta, LeadDayDelta


class Command(BaseCommand):
    help = (
        "Fold the lead counter deltas into one row per (creator, status) and per "
        "(creator, kind, business day, closed). --verify compares the counters with "
        "leads_lead; --rebuild recomputes them (needed after a change of DJANGO_TIME_ZONE)."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--verify", action="store_true",
            help="compare the counters with a count over leads_lead; exit 1 on any difference",
        )
        mode.add_argument(
            "--rebuild", action="store_true",
            help="recompute the counters from leads_lead (lead writes wait meanwhile) and "
                 "reinstall the day counters' triggers for the current DJANGO_TIME_ZONE",
        )

    def handle(self, *args, verify, rebuild, **options):
        started = time.perf_counter()
        if verify:
            drift = LeadCountDelta.objects.verify()
            day_drift = LeadDayDelta.objects.verify()
            if drift or day_drift:
                lines = "\n".join([*(f"  {_describe(row)}" for row in drift),
                                   *(f"  {_describe_day(row)}" for row in day_drift)])
                raise CommandError(
                    f"Lead counters drifted from leads_lead in {len(drift) + len(day_drift)} "
                    f"group(s):\n{lines}\n"
                    "Run `manage.py compact_lead_counts --rebuild` to recompute them."
                )
            self.stdout.write(f"Lead counters match leads_lead ({_elapsed(started)}).")
        elif rebuild:
            drift = LeadCountDelta.objects.rebuild()
            day_drift = LeadDayDelta.objects.rebuild()
            self.stdout.write(
                f"Rebuilt the lead counters ({_elapsed(started)}); "
                f"{len(drift) + len(day_drift)} group(s) had drifted."
            )
            for row in drift:
                self.stdout.write(f"  {_describe(row)}")
            for row in day_drift:
                self.stdout.write(f"  {_describe_day(row)}")
        else:
            # Concurrent compactions are safe (see LeadCountDelta.objects.compact)
            # but pointless: with the crontab on every host, one does the work.
            with job_lock("compact_lead_counts") as acquired:
                if not acquired:
                    self.stdout.write("compact_lead_counts is already running; nothing done.")
                    return
                before, after = LeadCountDelta.objects.compact()
                day_before, day_after = LeadDayDelta.objects.compact()
            self.stdout.write(
                f"Compacted {before} lead counter row(s) into {after} ({_elapsed(started)})."
            )
            self.stdout.write(f"Compacted {day_before} day counter row(s) into {day_after}.")


def _describe(row):
    return (
        f"creator {row['creator_id']}, {row['status']}: "
        f"counted {row['counted_leads']} leads / {row['counted_with_followup']} with follow-up, "
        f"actual {row['actual_leads']} / {row['actual_with_followup']}"
    )


def _describe_day(row):
    day = "no follow-up" if row["day"] is None else row["day"].isoformat()
    closed = "closed" if row["closed"] else "not closed"
    return (f"creator {row['creator_id']}, {row['kind']} {day}, {closed}: "
            f"counted {row['counted']} leads, actual {row['actual']}")


def _elapsed(started):
    return f"{(time.perf_counter() - started) * 1000:.0f} ms"
