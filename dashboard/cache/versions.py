"""Keys: scopes, their version tokens, entry keys, and how long entries live.

An entry's key names what it holds (family, scope, arguments) and no version:
the tokens it was computed under are stored inside the value, so a scope's
entry is overwritten when it is recomputed instead of multiplied per write
(Redis memory follows what is shown, not how often it changes)."""

import time

from django.conf import settings

from dashboard.cache.tokens import read_tokens

KEY_PREFIX = "dash"
TEAM_SCOPE = "team"
USERS_SCOPE = "users"


def family_timeouts():
    return {
        "day": settings.DASHBOARD_DAY_METRICS_TTL,
        "due": settings.DASHBOARD_DAY_METRICS_TTL,
        # One user's "New for you (n)".
        "new": settings.DASHBOARD_DAY_METRICS_TTL,
        # Whole responses. A family whose stored value changes shape takes a
        # new name ("page" held a dict of sections before "html" held the
        # whole page), so entries written by the previous release are never
        # read. (Keys ending in ":v<token>" are the versioned scheme's: no
        # versionless key ends that way.)
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
    # the nanoseconds that pass), so a recreated token never matches the
    # tokens stored with an older entry.
    return time.time_ns()


def read_versions(scopes):
    """{scope: token} in one round trip (plus one per token that has to be
    created), from the cache or, without Redis, the database (tokens.py).
    Raises CacheUnavailable."""
    return read_tokens({scope: version_key(scope) for scope in scopes}, fresh_token)


def build_key(family, scope, params):
    """The entry key for a selector family, its scope and its arguments. No
    version token: the entry's value carries the tokens it was computed under."""
    rendered = ":".join(f"{name}={params[name]}" for name in sorted(params))
    return f"{KEY_PREFIX}:{family}:{scope}:{rendered}"


def lock_key(key, tokens):
    """The lock of one computation of `key` under `tokens`: a request never
    waits for a computation under tokens other than the ones it read."""
    return f"{key}:lock:" + ".".join(str(token) for token in tokens)
