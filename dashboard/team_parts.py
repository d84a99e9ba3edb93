"""One dashboard request's rebuild: which sections it computed, and the team
view's sections computed from per-owner parts instead of the lead table
(docs/cache.md, "The team view from parts").

Every lead write bumps the team's token, so on a busy day the team view is
rebuilt after nearly every write. Its numbers are sums over lead owners, so
each owner's share is cached as a part under that owner's token (a write
retires its owners' parts only) and the team's sections are rebuilt from the
parts, which come from the counters; the team's due page is one indexed page
of leads, read for each rebuild.
"""

import logging
from datetime import date

from django.conf import settings
from django.db import DatabaseError

from crm.db_routers import use_primary
from dashboard import cache, selectors

logger = logging.getLogger(__name__)

# The outcomes counted per view ("view:team", "view:user") for each request.
HIT, REBUILT, MISS = "hit", "rebuilt", "miss"


class Rebuild:
    """Tracks one request's section computations. `day` and `bypass` (the
    scopes bypassed) are the request's; `team`: the request shows the team."""

    def __init__(self, day, *, team, bypass):
        self.day, self.team, self.bypass = day, team, bypass
        self.read_lead_table = False
        self._parts = None

    def section(self, compute, *, from_parts=False):
        """`compute`, wrapped: for the team view and `from_parts`, run with the
        lead-table numbers taken from the owners' parts (when the cache can
        serve them); otherwise noted as reading the lead table."""

        def run():
            if from_parts and self.team and self._load_parts():
                with selectors.team_from_parts(day=self.day, parts=self._parts):
                    return compute()
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

    def _load_parts(self):
        if self._parts is None:
            self._parts = self._fetch_parts()
        return self._parts is not False

    def _fetch_parts(self):
        # A bypassed team scope must not use cached parts (a failed bump of an
        # owner bypasses the team as well; invalidation.py).
        if cache.TEAM_SCOPE in self.bypass:
            return False
        try:
            owners = selectors.team_part_owners()
            parts = {owner: owner_part(self.day, owner) for owner in owners}
            values, computed = cache.fetch_parts(
                list(parts.values()),
                # A few owners a write changed: their index ranges only; a cold
                # team: the team-wide statements, as many whatever its size.
                lambda missing: compute_parts(missing, one_by_one=(
                    len(missing) <= FEW_OWNERS and len(missing) < len(parts))),
                bypass=self.bypass)
        except cache.CacheUnavailable:
            return False
        if computed:
            self.read_lead_table = True
        cache.remember_team_day(self.day.isoformat())
        return {owner: values[part.key] for owner, part in parts.items()}


def owner_part(day, owner):
    """The cache Part of one owner's share of the team view on `day`."""
    return cache.Part(cache.PART_FAMILY, cache.user_scope(owner),
                      {"date": day.isoformat(), "owner": owner}, compute=None)


def compute_parts(parts, *, one_by_one):
    """{part.key: value} for owner_part()s, computed together per day
    (selectors.team_parts)."""
    by_day = {}
    for part in parts:
        by_day.setdefault(part.params["date"], []).append(part)
    values = {}
    for day, same_day in by_day.items():
        computed = selectors.team_parts(day=date.fromisoformat(day),
                                        owners=[part.params["owner"] for part in same_day],
                                        one_by_one=one_by_one)
        values.update({part.key: computed[part.params["owner"]] for part in same_day})
    return values


# Up to this many owners' parts are computed owner by owner (reading only
# their leads' index ranges). A write touching more owners (an import, a bulk
# action) leaves their parts to the next team rebuild.
FEW_OWNERS = 4


def invalidate_and_refresh(owner_ids, *, users_changed=False):
    """A committed write's invalidation (cache.invalidate_dashboard: its
    owners', the team's and, when accounts changed, the user list's tokens)
    with its owners' parts of the team view recomputed for the days whose
    team view was rebuilt lately, so that the next team rebuild finds every
    part current (it still reads its one due page).

    The parts are computed *before* the bump and stored right after it, under
    the owner's new token, only when that token is exactly one more than the
    token read before computing (no other write bumped it meanwhile: the
    value was computed after every write whose bump it carries committed).
    Storing them after computing under the bumped token would leave a window
    in which concurrent team rebuilds compute the part themselves. Best
    effort: a part not refreshed is computed by the next rebuild, and the
    invalidation happens whatever the refresh does."""
    owners = sorted({int(owner) for owner in owner_ids if owner is not None})
    try:
        prepared = _prepare_parts(owners)
    except Exception:  # the invalidation below must happen whatever this does
        logger.exception("Team parts of owners %s not refreshed.", owners)
        prepared = None
    invalidated = cache.invalidate_dashboard(user_ids=owners, team=True,
                                             users_list=users_changed)
    if invalidated and prepared is not None:
        _store_prepared(*prepared)


def _prepare_parts(owners):
    if not settings.DASHBOARD_REFRESH_PARTS or not owners or len(owners) > FEW_OWNERS:
        return None
    try:
        days = [date.fromisoformat(day) for day in cache.recent_team_days()]
        if not days:
            return None
        before = cache.read_versions([cache.user_scope(owner) for owner in owners])
        parts = [owner_part(day, owner) for day in days for owner in owners]
        with use_primary(), selectors.shared_queries():
            values = compute_parts(parts, one_by_one=True)
    except (cache.CacheUnavailable, DatabaseError):
        return None
    return before, parts, values


def _store_prepared(before, parts, values):
    try:
        after = cache.read_versions(list(before))
        bypassed = cache.bypassed_scopes()
        current = {scope for scope, token in before.items()
                   if after[scope] == token + 1 and scope not in bypassed}
        cache.store_parts({part.key: (part.tokens(after), values[part.key])
                           for part in parts if part.scope in current})
    except (cache.CacheUnavailable, DatabaseError):
        pass
