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

Logging in goes through the login throttle (accounts/throttling.py): an
attempt a lockout covers is refused before the password is checked, a failure
is counted, a success resets its (username, address) pair.

The backend lives here, not in an app, because it composes three: leads never
imports the dashboard.
"""

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection

from accounts import throttling
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
    """ModelBackend whose user load preloads the viewer's flags and whose
    logins are throttled (see the module docstring). Checking the password,
    permissions and the rest are ModelBackend's."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if request is None or username is None or password is None:
            # No client to count (a shell, a script) or nothing to check.
            return super().authenticate(request, username, password, **kwargs)
        address = throttling.client_address(request)
        lockout = throttling.lockout_for(username=username, address=address)
        if lockout is not None:
            setattr(request, throttling.LOCKOUT_ATTRIBUTE, lockout)
            raise throttling.LoginLocked(lockout)
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            throttling.login_failure_record(username=username, address=address)
        else:
            throttling.login_failures_reset(username=username, address=address)
        return user

    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        # ModelBackend's own aauthenticate would skip the throttle.
        return await sync_to_async(self.authenticate)(request, username, password, **kwargs)

    def get_user(self, user_id):
        user = user_with_viewer_flags(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        # Raw queries have no async form; ModelBackend's own aget_user would
        # load the user without the flags.
        return await sync_to_async(self.get_user)(user_id)
