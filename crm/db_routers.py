"""Read replicas: which database a query goes to.

Everything goes to the primary (``default``) unless the code marks a block
as replica-safe with ``use_replica()``: only the dashboard's read side does
(dashboard/views.py). Inside such a block the router still answers "primary"
when

- no replica is configured (``DATABASE_REPLICA_URLS`` empty),
- the primary connection is inside an atomic block (a read in a transaction
  must see that transaction's own writes and snapshot), or
- the block was opened with ``enabled=False``: the view does that for a user
  who wrote within the last ``CRM_READ_YOUR_WRITES_SECONDS`` (read-your-writes,
  marked by ``ReadYourWritesMiddleware`` in crm/middleware.py).

``use_primary()`` forces the primary inside a replica block (and in any
replica block opened within it): dashboard/cache/
computes every value it will *store* on the primary (see there for why).

One replica is picked when the block opens and used for all its queries, so
the numbers of one request come from one server.
"""

import random
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

# The replica chosen for the current block, or None: read from the primary.
_replica = ContextVar("crm_read_replica", default=None)
# True inside use_primary(), which a nested use_replica() cannot undo.
_primary_forced = ContextVar("crm_primary_forced", default=False)

WROTE_COOKIE = "crm_wrote"
_WROTE_SALT = "crm.read-your-writes"


def replica_aliases():
    return list(getattr(settings, "DATABASE_REPLICAS", ()))


@contextmanager
def use_replica(*, enabled=True):
    """Within the block, reads outside transactions may go to one replica."""
    # Inside use_primary() the primary wins: a value being computed for the
    # cache must not pick up replica reads from code it calls.
    aliases = replica_aliases() if enabled and not _primary_forced.get() else []
    token = _replica.set(random.choice(aliases) if aliases else None)
    try:
        yield
    finally:
        _replica.reset(token)


@contextmanager
def use_primary():
    """Within the block every read goes to the primary, even inside use_replica()."""
    token = _replica.set(None)
    forced = _primary_forced.set(True)
    try:
        yield
    finally:
        _primary_forced.reset(forced)
        _replica.reset(token)


def reading_from_replica():
    """The replica alias reads would go to now (outside a transaction), or None."""
    return _replica.get()


class PrimaryReplicaRouter:
    """Writes, migrations and every unmarked read: the primary. Marked reads: a replica."""

    def db_for_read(self, model, **hints):
        alias = _replica.get()
        if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Replicas hold the primary's rows: an object read from one may be
        # related to (and saved with) an object of the primary.
        known = {DEFAULT_DB_ALIAS, *replica_aliases()}
        if obj1._state.db in known and obj2._state.db in known:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # Replicas follow the primary's schema through replication.
        return db == DEFAULT_DB_ALIAS


# --- read-your-writes --------------------------------------------------------

def mark_write(response):
    """Remember on the client that it has just written (a signed, timestamped
    cookie that lives for the read-your-writes window)."""
    seconds = settings.CRM_READ_YOUR_WRITES_SECONDS
    if seconds <= 0:
        return
    response.set_signed_cookie(
        WROTE_COOKIE, "1", salt=_WROTE_SALT, max_age=seconds,
        secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax",
    )


def wrote_recently(request):
    """True while the client's last successful write is younger than the window.

    The signature carries the time it was made, so a cookie kept past its
    max-age (or replayed) is not honoured beyond the window.
    """
    seconds = settings.CRM_READ_YOUR_WRITES_SECONDS
    if seconds <= 0:
        return False
    marker = request.get_signed_cookie(
        WROTE_COOKIE, default=None, salt=_WROTE_SALT, max_age=seconds
    )
    return marker is not None
