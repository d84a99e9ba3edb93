"""Invalidation: a committed write bumps the version tokens of what it touched."""

import logging

from django.db import DatabaseError

from dashboard.cache.bypass import record_bypass
from dashboard.cache.tokens import bump_tokens
from dashboard.cache.versions import (
    TEAM_SCOPE,
    USERS_SCOPE,
    fresh_token,
    longest_timeout,
    user_scope,
    version_key,
)

logger = logging.getLogger(__name__)


def invalidate_dashboard(*, user_ids=(), team=True, users_list=False):
    """Make the next dashboard read recompute what a committed write changed.

    `user_ids`: the owners whose leads (or snapshots) changed; `team`: the
    team-wide view (every lead write changes it); `users_list`: the active-user
    list (user accounts changed). O(1) per scope, whatever the number of rows.
    Call it after commit (``transaction.on_commit``). Returns False when a
    bump failed (a bypass of the scopes whose bump failed is then recorded).
    """
    owners = sorted({int(u) for u in user_ids if u is not None})
    scopes = [user_scope(uid) for uid in owners]
    if team:
        scopes.append(TEAM_SCOPE)
    if users_list:
        scopes.append(USERS_SCOPE)
    failed, cause = bump_tokens({scope: version_key(scope) for scope in scopes}, fresh_token)
    if failed:
        try:
            record_bypass(failed, cause=cause)
        except DatabaseError:
            # Neither the bump nor the bypass took: these owners' entries may
            # be served stale until their timeout. Say whose.
            logger.exception(
                "Dashboard cache invalidation failed and the bypass could not be recorded; "
                "entries for owners %s (team=%s, users list=%s) may be stale for up to %d s.",
                owners, team, users_list, longest_timeout(),
            )
    return not failed
