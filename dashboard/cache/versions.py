"""Keys: scopes, their version tokens, entry keys, and how long entries live."""

import time

from django.conf import settings
from django.core.cache import cache

from dashboard.cache.errors import CacheUnavailable, cache_call

KEY_PREFIX = "dash"
TEAM_SCOPE = "team"
USERS_SCOPE = "users"


def family_timeouts():
    return {
        "day": settings.DASHBOARD_DAY_METRICS_TTL,
        "due": settings.DASHBOARD_DAY_METRICS_TTL,
        # Whole responses. A family whose stored value changes shape takes a
        # new name ("page" held a dict of sections before "html" held the
        # whole page), so entries written by the previous release are never read.
        "html": settings.DASHBOARD_DAY_METRICS_TTL,
        "json": settings.DASHBOARD_DAY_METRICS_TTL,
        "team": settings.DASHBOARD_TEAM_PERFORMANCE_TTL,
        "charts": settings.DASHBOARD_TEAM_PERFORMANCE_TTL,
        "users": settings.DASHBOARD_TEAM_PERFORMANCE_TTL,
    }


def longest_timeout():
    return max(family_timeouts().values())


def user_scope(user_id):
    """The scope of one user's view, or the team's for None."""
    return TEAM_SCOPE if user_id is None else f"u{int(user_id)}"


def version_key(scope):
    """Where the scope's version token is stored."""
    if scope in (TEAM_SCOPE, USERS_SCOPE):
        return f"{KEY_PREFIX}:ver:{scope}"
    return f"{KEY_PREFIX}:ver:user:{scope[1:]}"


def fresh_token():
    # Larger than any token handed out before (increments are tiny next to
    # the nanoseconds that pass), so a recreated token never matches old keys.
    return time.time_ns()


def read_versions(scopes):
    """{scope: token} in one round trip (plus one per token that has to be
    created). Raises CacheUnavailable."""
    keys = {scope: version_key(scope) for scope in scopes}
    found = cache_call("version read", cache.get_many, list(keys.values()))
    versions = {}
    for scope, key in keys.items():
        token = found.get(key)
        if token is None:
            # add() keeps a token another process created meanwhile.
            cache_call("version create", cache.add, key, fresh_token(), None)
            token = cache_call("version read", cache.get, key)
            if token is None:
                raise CacheUnavailable("version create")
        versions[scope] = token
    return versions


def build_key(family, scope, params, token, *also_tokens):
    """The entry key for a selector family, its scope, its arguments and the
    scope's version token (then the tokens of the scopes it also depends on)."""
    rendered = ":".join(f"{name}={params[name]}" for name in sorted(params))
    tokens = "".join(f":v{t}" for t in (token, *also_tokens))
    return f"{KEY_PREFIX}:{family}:{scope}:{rendered}{tokens}"
