"""Hit statistics: hits and misses per family and per request, in time windows
shared by every process (counters in the cache)."""

import logging
import threading
import time
from collections import Counter

from django.core.cache import cache

from dashboard.cache.errors import CacheUnavailable, cache_call
from dashboard.cache.versions import KEY_PREFIX, family_timeouts

logger = logging.getLogger(__name__)

STATS_WINDOW_SECONDS = 300
# Counting costs no round trip per request: counts gather in the process and
# reach the cache at most this often (and before any read of them).
STATS_FLUSH_SECONDS = 1.0
HIT_RATE_WARNING = 0.70
HIT_RATE_MIN_LOOKUPS = 20

# The hit rate that matters is the requests': how often what a request asked
# for (a whole page, a JSON document, the user list) came from the cache alone.
# Per family, every lookup counts, the sections looked up while a whole page
# is rebuilt included.
REQUESTS = "requests"
# Per view, how each request was answered: "hit" (the whole response was
# cached), "rebuilt" (rebuilt from cached sections: no statement read the lead
# table) or "miss" (the lead table was read; dashboard/view_outcomes.py).
VIEWS = ("team", "user")
VIEW_OUTCOMES = ("hit", "rebuilt", "miss")


def _key(family, outcome, bucket):
    return f"{KEY_PREFIX}:stats:{family}:{outcome}:{bucket}"


def _rate(hits, misses):
    lookups = hits + misses
    return None if lookups == 0 else round(hits / lookups, 4)


class HitStats:
    """One process's counting. `clock` (wall seconds) picks the window, the
    same in every process; `monotonic` times the flushes."""

    def __init__(self, *, clock=time.time, monotonic=time.monotonic):
        self.clock = clock
        self.monotonic = monotonic
        self.window_seconds = STATS_WINDOW_SECONDS
        self.flush_seconds = STATS_FLUSH_SECONDS
        self._pending = Counter()
        self._lock = threading.Lock()
        self._last_flush = None
        self._checked_window = None

    def window(self, offset=0):
        """The current window's number (`offset` windows back)."""
        return int(self.clock() // self.window_seconds) - offset

    def count(self, families, outcome):
        """Count one lookup with `outcome` ("hit" or "miss") per family listed."""
        if not families:
            return
        window = self.window()
        with self._lock:
            for family in families:
                self._pending[(family, outcome, window)] += 1
            due = (self._last_flush is None
                   or self.monotonic() - self._last_flush >= self.flush_seconds)
        if due:
            self.flush()

    def flush(self):
        """Add the counts gathered in this process to the shared counters."""
        with self._lock:
            pending = dict(self._pending)
            self._pending.clear()
            self._last_flush = self.monotonic()
        for (family, outcome, window), n in pending.items():
            key = _key(family, outcome, window)
            try:
                try:
                    cache_call("stats", cache.incr, key, n)
                except ValueError:
                    if not cache_call("stats", cache.add, key, n, self.window_seconds * 3):
                        cache_call("stats", cache.incr, key, n)
            except CacheUnavailable:
                return  # counts are best effort: an outage drops them

    def reset(self):
        """Forget unflushed counts and when this process last flushed and
        checked the rate (tests start each case from zero)."""
        with self._lock:
            self._pending.clear()
            self._last_flush = None
            self._checked_window = None

    def read(self, *, window_offset=0):
        """Hits, misses and hit rate per family, and for the requests' own
        lookups ("total": a lookup is a hit when everything it asked for was
        cached), for one window (0 = the current one, 1 = the one before),
        and the requests' outcomes per view ("views"). Rate is None when
        nothing was looked up."""
        self.flush()
        window = self.window(window_offset)
        families = sorted(family_timeouts())
        keys = [_key(f, o, window) for f in (*families, REQUESTS) for o in ("hit", "miss")]
        keys += [_key(f"view:{v}", o, window) for v in VIEWS for o in VIEW_OUTCOMES]
        try:
            found = cache_call("stats", cache.get_many, keys)
        except CacheUnavailable:
            found = {}

        def counted(family):
            hits = int(found.get(_key(family, "hit", window), 0))
            misses = int(found.get(_key(family, "miss", window), 0))
            return {"hits": hits, "misses": misses, "hit_rate": _rate(hits, misses)}

        return {
            "window_seconds": self.window_seconds,
            "window_start": window * self.window_seconds,
            "families": [{"family": family, **counted(family)} for family in families],
            "total": counted(REQUESTS),
            "views": {view: {outcome: int(found.get(_key(f"view:{view}", outcome, window), 0))
                             for outcome in VIEW_OUTCOMES} for view in VIEWS},
        }

    def warn_if_hit_rate_low(self):
        """Once per window per process, warn if the last full window's request
        hit rate fell below HIT_RATE_WARNING."""
        window = self.window()
        if self._checked_window == window:
            return
        self._checked_window = window
        total = self.read(window_offset=1)["total"]
        lookups = total["hits"] + total["misses"]
        if lookups >= HIT_RATE_MIN_LOOKUPS and total["hit_rate"] < HIT_RATE_WARNING:
            logger.warning(
                "Dashboard cache hit rate %.1f %% over the last %d s (%d lookups) is below %d %%.",
                100 * total["hit_rate"], self.window_seconds, lookups,
                int(100 * HIT_RATE_WARNING),
            )


hit_stats = HitStats()


def cache_stats(*, window_offset=0):
    """The shared counts of one window: see HitStats.read."""
    return hit_stats.read(window_offset=window_offset)


def view_rows(stats):
    """Per view of a `cache_stats` window, its requests' outcomes with their
    total and the share answered whole from the cache ("hit_rate", None
    without requests): [{"view", "hit", "rebuilt", "miss", "requests",
    "hit_rate"}]. Unlike the request lookups' rate, each dashboard request
    counts once (a manager's query naming a user also looks the user list up)."""
    rows = []
    for view, outcomes in stats["views"].items():
        requests = sum(outcomes.values())
        rows.append({"view": view, **outcomes, "requests": requests,
                     "hit_rate": _rate(outcomes["hit"], requests - outcomes["hit"])})
    return rows
