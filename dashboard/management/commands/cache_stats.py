from django.core.management.base import BaseCommand

from dashboard.cache import HIT_RATE_WARNING, cache_stats, view_rows


def _rate(value):
    return "–" if value is None else f"{100 * value:.1f} %"


class Command(BaseCommand):
    help = ("Print the dashboard cache's hits, misses and hit rate per key family, and "
            "how each view's requests were answered (whole, rebuilt, reading the lead table).")

    def handle(self, *args, **options):
        for title, offset in (("current window", 0), ("previous window", 1)):
            stats = cache_stats(window_offset=offset)
            self.stdout.write(f"{title} ({stats['window_seconds']} s)")
            self.stdout.write(f"  {'family':<8} {'hits':>8} {'misses':>8} {'hit rate':>9}")
            for row in stats["families"] + [{"family": "requests", **stats["total"]}]:
                self.stdout.write(
                    f"  {row['family']:<8} {row['hits']:>8} {row['misses']:>8} "
                    f"{_rate(row['hit_rate']):>9}"
                )
            self.stdout.write(
                f"  {'view':<8} {'whole':>8} {'rebuilt':>8} {'read':>8} {'whole %':>9}")
            for row in view_rows(stats):
                self.stdout.write(
                    f"  {row['view']:<8} {row['hit']:>8} {row['rebuilt']:>8} {row['miss']:>8} "
                    f"{_rate(row['hit_rate']):>9}"
                )
        previous = cache_stats(window_offset=1)["total"]["hit_rate"]
        if previous is not None and previous < HIT_RATE_WARNING:
            self.stdout.write(
                self.style.WARNING(
                    f"Hit rate below {int(100 * HIT_RATE_WARNING)} % in the previous window."
                )
            )
