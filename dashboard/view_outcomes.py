"""How each dashboard request was answered, counted per view ("view:team",
"view:user"; docs/cache.md, "Hit rate"): a full hit, rebuilt from cached
sections without reading the lead table, or a miss that read it."""

from dashboard import cache

HIT, REBUILT, MISS = "hit", "rebuilt", "miss"


class Rebuild:
    """Tracks one request's section computations. `team`: the request shows
    the team."""

    def __init__(self, *, team):
        self.team = team
        self.read_lead_table = False

    def section(self, compute, *, reads_leads=True):
        """`compute`, wrapped to note that the request read the lead table
        when it runs (`reads_leads`: the trend reads only counters and the
        work log)."""

        def run():
            if reads_leads:
                self.read_lead_table = True
            return compute()

        return run

    def outcome(self, fetched_outcome):
        """The request's outcome for the per-view counts."""
        if fetched_outcome == "hit":
            return HIT
        if fetched_outcome in ("miss", "partial") and not self.read_lead_table:
            return REBUILT
        return MISS

    def count(self, fetched_outcome):
        cache.hit_stats.count([f"view:{'team' if self.team else 'user'}"],
                              self.outcome(fetched_outcome))
