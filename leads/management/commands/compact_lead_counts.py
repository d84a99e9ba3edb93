import time

from django.core.management.base import BaseCommand, CommandError

from leads.locks import job_lock
from leads.models import LeadCountDelta


class Command(BaseCommand):
    help = (
        "Fold the lead counter deltas into one row per (creator, status). "
        "--verify compares the counters with leads_lead; --rebuild recomputes them."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--verify", action="store_true",
            help="compare the counters with a count over leads_lead; exit 1 on any difference",
        )
        mode.add_argument(
            "--rebuild", action="store_true",
            help="recompute the counters from leads_lead (lead writes wait meanwhile)",
        )

    def handle(self, *args, verify, rebuild, **options):
        started = time.perf_counter()
        if verify:
            drift = LeadCountDelta.objects.verify()
            if drift:
                lines = "\n".join(f"  {_describe(row)}" for row in drift)
                raise CommandError(
                    f"Lead counters drifted from leads_lead in {len(drift)} group(s):\n{lines}\n"
                    "Run `manage.py compact_lead_counts --rebuild` to recompute them."
                )
            self.stdout.write(f"Lead counters match leads_lead ({_elapsed(started)}).")
        elif rebuild:
            drift = LeadCountDelta.objects.rebuild()
            self.stdout.write(
                f"Rebuilt the lead counters ({_elapsed(started)}); "
                f"{len(drift)} group(s) had drifted."
            )
            for row in drift:
                self.stdout.write(f"  {_describe(row)}")
        else:
            # Concurrent compactions are safe (see LeadCountDelta.objects.compact)
            # but pointless: with the crontab on every host, one does the work.
            with job_lock("compact_lead_counts") as acquired:
                if not acquired:
                    self.stdout.write("compact_lead_counts is already running; nothing done.")
                    return
                before, after = LeadCountDelta.objects.compact()
            self.stdout.write(
                f"Compacted {before} lead counter row(s) into {after} ({_elapsed(started)})."
            )


def _describe(row):
    return (
        f"creator {row['creator_id']}, {row['status']}: "
        f"counted {row['counted_leads']} leads / {row['counted_with_followup']} with follow-up, "
        f"actual {row['actual_leads']} / {row['actual_with_followup']}"
    )


def _elapsed(started):
    return f"{(time.perf_counter() - started) * 1000:.0f} ms"
