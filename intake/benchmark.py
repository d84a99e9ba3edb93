"""The import benchmark's pieces (bench_import): a generated file of leads
and the measurements around a dry run and an import."""

import csv
import random
import resource
import time
import tracemalloc
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from leads.demo_data import FIRST_NAMES, LAST_NAMES
from leads.signals import leads_changed

CAR_MODELS = ("Swift", "City", "Creta", "Nexon", "i20", "Innova", "Baleno", "XUV700")
SERVICES = ("Periodic service", "Repair", "Insurance", "Wash", "Tyres")
HEADER = ["Customer Name", "Mobile", "Reg No", "Car Model", "Service Type", "Follow-up date",
          "Remarks", "Owner"]


def generate_rows(*, count, owners, seed, owner_share=0.5, invalid_share=0.01,
                  duplicate_share=0.01):
    """`count` data rows like a campaign sheet: most valid, about 1 % with a
    bad mobile, about 1 % repeating an earlier row's mobile, `owner_share` of
    them naming an owner."""
    rng = random.Random(seed)
    today = timezone.localdate()
    earlier = []
    for number in range(count):
        roll = rng.random()
        if roll < invalid_share:
            mobile = f"{rng.randrange(10**5):05d}"
        elif roll < invalid_share + duplicate_share and earlier:
            mobile = rng.choice(earlier)
        else:
            first = f"{rng.choice('6789')}{rng.randrange(10**4):04d}"
            mobile = f"+91 {first} {rng.randrange(10**5):05d}"
            if len(earlier) < 1000:
                earlier.append(mobile)
        followup = today + timedelta(days=rng.randrange(0, 14))
        yield [
            f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            mobile,
            f"RJ{rng.randint(1, 52)}{rng.choice('ABCDEFGH')}{rng.choice('ABCDEFGH')}"
            f"{rng.randint(1, 9999):04d}" if rng.random() < 0.8 else "",
            rng.choice(CAR_MODELS),
            rng.choice(SERVICES),
            f"{followup:%d/%m/%Y} {rng.randint(9, 19):02d}:{rng.choice((0, 15, 30, 45)):02d}",
            "Campaign enquiry" if number % 3 else "",
            rng.choice(owners) if rng.random() < owner_share else "",
        ]


def write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return Path(path)


def write_xlsx(path, rows):
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Leads")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return Path(path)


def _reset_peak_rss():
    """Reset the kernel's peak-RSS mark of this process (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_rss_mb():
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Measure:
    seconds: dict = field(default_factory=dict)
    rss_before_mb: float = 0.0
    peak_rss_mb: float = 0.0
    peak_rss_reset: bool = False
    tracemalloc_peak_mb: float | None = None
    announcements: list = field(default_factory=list)


@contextmanager
def measuring(*, trace=False):
    measure = Measure(rss_before_mb=_rss_mb(), peak_rss_reset=_reset_peak_rss())

    def count(sender, owner_ids, users_changed, **kwargs):
        measure.announcements.append(frozenset(owner_ids))

    leads_changed.connect(count, dispatch_uid="bench_import_count")
    if trace:
        tracemalloc.start()
    try:
        yield measure
    finally:
        if trace:
            measure.tracemalloc_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        leads_changed.disconnect(dispatch_uid="bench_import_count")
        measure.peak_rss_mb = _peak_rss_mb()


@contextmanager
def timed(measure, name):
    started = time.perf_counter()
    yield
    measure.seconds[name] = time.perf_counter() - started
