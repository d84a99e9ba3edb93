"""Who is writing leads, for the change history (``LeadChange``).

Database triggers on ``leads_lead`` write the history (migration
``0014_lead_history``; leads/db_upkeep.py keeps the SQLite ones): every path
that writes the table is recorded, the ORM's saves, ``update()``,
``bulk_create()`` and deletes, admin, imports, and SQL run by outside scripts.
A trigger cannot see the Django user, so the product's writes carry it in the
row itself, in three columns no page shows:

- ``history_actor``: the user on whose behalf the write is made (none for a
  management command or a shell);
- ``history_via``: where it was made (``page``, ``admin``, ``import``,
  ``api``, ``script``);
- ``history_token``: a new random number on every product write, negative
  when the write is the stamp before a delete. A row whose token did not
  change was written by something that does not know about the stamp: the
  trigger records that write as ``outside`` the product, with no user.

This module keeps the acting user and channel of the current request or
block (a context variable: per thread and per task) and hands out the stamp;
``Lead.save()``/``delete()`` and ``LeadQuerySet`` put it on every write.
docs/history.md says why triggers rather than recording in Python.
"""

import secrets
from contextlib import contextmanager
from contextvars import ContextVar

VIA_PAGE = "page"
VIA_ADMIN = "admin"
VIA_IMPORT = "import"
VIA_API = "api"
VIA_SCRIPT = "script"
VIA_OUTSIDE = "outside"

# The carrier columns on leads_lead, as ``update()`` keyword arguments.
STAMP_FIELDS = ("history_actor_id", "history_via", "history_token")

# (actor: a user, a callable returning one, or None; via)
_acting = ContextVar("lead_history_acting", default=(None, VIA_SCRIPT))


def _actor_id(actor):
    if callable(actor):
        actor = actor()
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return actor.pk


def current_actor():
    """(user id or None, via) of the writes made now."""
    actor, via = _acting.get()
    return _actor_id(actor), via


@contextmanager
def acting_as(user=None, *, via=None):
    """Writes to leads inside the block are recorded as made by `user` (a user
    or a callable returning one, looked up only when a write happens) through
    `via`; either left out keeps the surrounding one."""
    outer_actor, outer_via = _acting.get()
    token = _acting.set((outer_actor if user is None else user, via or outer_via))
    try:
        yield
    finally:
        _acting.reset(token)


def stamp(*, deleting=False):
    """The carrier columns' values for one write ({column attname: value})."""
    actor_id, via = current_actor()
    token = secrets.randbits(62) + 1
    return {"history_actor_id": actor_id, "history_via": via,
            "history_token": -token if deleting else token}


class HistoryActorMiddleware:
    """Lead writes made while answering a request are recorded as the
    logged-in user's, through `admin` under /admin/ and `page` elsewhere.

    The user is looked up only if the request writes a lead, so requests that
    do not (most) cost nothing more.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        via = VIA_ADMIN if request.path_info.startswith("/admin/") else VIA_PAGE
        with acting_as(lambda: getattr(request, "user", None), via=via):
            return self.get_response(request)
