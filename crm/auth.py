"""The project's authentication backend: Django's ModelBackend, whose
per-request load of the user also answers what the pages ask about their
viewer, in the same statement.

A user loaded by ``ViewerBackend`` carries, for the request:

- ``user.sees_all_leads``: the manager rule of leads/permissions.py, read by
  ``leads.permissions.user_sees_all_leads``;
- ``user.dashboard_cache_bypassed``: the dashboard cache scopes bypassed after
  a failed invalidation (a frozenset), read by
  ``dashboard.selectors.viewer_bypassed_scopes``.

Both readers compute the answer themselves for a user that came any other way
(another backend, RequestFactory), so the attributes are only a shortcut: a
warm dashboard request then runs a single statement, and a leads page asks the
manager rule nothing beyond loading its user.

The backend lives here, not in an app, because it composes two: leads never
imports the dashboard.
"""

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection

from dashboard import selectors as dashboard_selectors
from leads import permissions


def user_with_viewer_flags(user_id):
    """The user with `user_id` (None if there is none), with
    ``sees_all_leads`` and ``dashboard_cache_bypassed`` loaded in the same
    statement (on the primary, as every read outside the dashboard's replica
    blocks: a bypass recorded a moment ago must be seen)."""
    user_model = get_user_model()
    manager_sql, manager_params = permissions.sees_all_leads_sql("u")
    bypass_sql, bypass_params = dashboard_selectors.cache_bypassed_sql()
    table = connection.ops.quote_name(user_model._meta.db_table)
    pk = connection.ops.quote_name(user_model._meta.pk.column)
    found = list(user_model._default_manager.raw(
        f"SELECT u.*, {manager_sql} AS {permissions.PRELOADED_ATTRIBUTE}, "
        f"{bypass_sql} AS {dashboard_selectors.CACHE_BYPASSED_ATTRIBUTE} "
        f"FROM {table} u WHERE u.{pk} = %s",
        [*manager_params, *bypass_params, user_id],
    ))
    if not found:
        return None
    user = found[0]
    # SQLite answers 0/1: the reader expects a boolean.
    setattr(user, permissions.PRELOADED_ATTRIBUTE,
            bool(getattr(user, permissions.PRELOADED_ATTRIBUTE)))
    bypassed = dashboard_selectors.CACHE_BYPASSED_ATTRIBUTE
    setattr(user, bypassed, dashboard_selectors.cache_bypassed_from_sql(getattr(user, bypassed)))
    return user


class ViewerBackend(ModelBackend):
    """ModelBackend whose user load preloads the viewer's flags (see the
    module docstring). Logging in, permissions and the rest are ModelBackend's."""

    def get_user(self, user_id):
        user = user_with_viewer_flags(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        # Raw queries have no async form; ModelBackend's own aget_user would
        # load the user without the flags.
        return await sync_to_async(self.get_user)(user_id)
