import time

from django.core.management.base import BaseCommand, CommandError

from calls.models import CallDayCount


class Command(BaseCommand):
    help = (
        "Check or repair the call counters (calls_calldaycount: calls and connected calls per "
        "caller and business day). --verify compares them with calls_calllog; --rebuild "
        "reinstalls their triggers for the current DJANGO_TIME_ZONE and recounts."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument(
            "--verify", action="store_true",
            help="compare the counters with a grouped count over calls_calllog; exit 1 on any "
                 "difference",
        )
        mode.add_argument(
            "--rebuild", action="store_true",
            help="reinstall the triggers for the current DJANGO_TIME_ZONE and recount from "
                 "calls_calllog (call writes wait meanwhile)",
        )

    def handle(self, *args, verify, rebuild, **options):
        started = time.perf_counter()
        if verify:
            drift = CallDayCount.objects.verify()
            if drift:
                lines = "\n".join(f"  {_describe(row)}" for row in drift)
                raise CommandError(
                    f"Call counters drifted from calls_calllog in {len(drift)} group(s):\n"
                    f"{lines}\nRun `manage.py call_counts --rebuild` to recount them."
                )
            self.stdout.write(f"Call counters match calls_calllog ({_elapsed(started)}).")
            return
        drift = CallDayCount.objects.rebuild()
        self.stdout.write(
            f"Rebuilt the call counters ({_elapsed(started)}); {len(drift)} group(s) had drifted."
        )
        for row in drift:
            self.stdout.write(f"  {_describe(row)}")


def _describe(row):
    return (f"user {row['user_id']}, {row['day'].isoformat()}: "
            f"counted {row['counted_attempts']} calls / {row['counted_connected']} connected, "
            f"actual {row['actual_attempts']} / {row['actual_connected']}")


def _elapsed(started):
    return f"{(time.perf_counter() - started) * 1000:.0f} ms"
