"""Login throttling: two rules, counted in the database.

- **Pair**: ``LOGIN_PAIR_FAILURE_LIMIT`` failed logins for one username from
  one client address within ``LOGIN_FAILURE_WINDOW`` lock that pair for
  ``LOGIN_LOCKOUT_DURATION`` (guessing one account's password).
- **Address**: ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures from one address
  within the window, whatever the usernames, lock the whole address for as
  long (password spraying: a few guesses at many accounts).

While a lockout runs, an attempt it covers is refused before any password is
checked (no hashing, so a flood cannot take the workers) and is not counted.
A successful login deletes its own pair's failures only, never the other
usernames' from the address: one valid account must not reset a spraying
count. A manager lifts a lockout in the admin (accounts/admin.py). Counts live
in the database, so they hold through a Redis outage and across workers.

Why not django-axes (verified with 8.3.1): it has one failure limit for all its
lockout parameters (it locks when the largest count reaches it), so it cannot
say 10 for a pair and 50 for an address; its reset on success deletes the
attempts of every parameter, the address's included, which would let a
sprayer with one valid account start again at zero; and it counts per
(username, address, user agent) row since that row's last failure, not within
a window.

The client address is REMOTE_ADDR unless ``CRM_CLIENT_IP_HEADER`` names the
header that the proxies in front append the client's address to, and
``CRM_TRUSTED_PROXIES`` how many of them there are (X-Forwarded-For is never
read by default: any client can send it).
"""

import ipaddress

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import ADDRESS_LENGTH, USERNAME_LENGTH, LoginFailure, LoginLockout

# The request attribute that tells accounts.middleware a login was refused.
LOCKOUT_ATTRIBUTE = "login_lockout"


class LoginLocked(PermissionDenied):
    """Raised by the authentication backend for an attempt a lockout covers:
    Django's authenticate() then tries no other backend."""

    def __init__(self, lockout):
        super().__init__(str(lockout))
        self.lockout = lockout


def _normalised_address(value):
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def client_address(request):
    """The address login throttling counts `request` under: REMOTE_ADDR, or the
    entry the outermost trusted proxy added to ``CRM_CLIENT_IP_HEADER``. ""
    when there is none (every such client then shares one count)."""
    remote = _normalised_address(request.META.get("REMOTE_ADDR", "")) or ""
    header = settings.CRM_CLIENT_IP_HEADER
    if not header:
        return remote
    entries = request.META.get("HTTP_" + header.upper().replace("-", "_"), "").split(",")
    trusted = settings.CRM_TRUSTED_PROXIES
    # Each trusted proxy appended the address it received from; entries to
    # the left of the outermost one's are whatever the client sent. Fewer
    # entries than proxies: the request did not come through them all.
    if len(entries) < trusted:
        return remote
    return _normalised_address(entries[-trusted]) or remote


def _key(username):
    # PostgreSQL refuses NUL in text; a longer username names no account.
    return username.replace("\x00", "")[:USERNAME_LENGTH]


def lockout_for(*, username, address):
    """The running lockout that refuses `username` from `address` (the one
    ending last when both rules apply), or None."""
    return (
        LoginLockout.objects.filter(address=address[:ADDRESS_LENGTH], until__gt=timezone.now())
        .filter(Q(username__isnull=True) | Q(username=_key(username)))
        .order_by("-until")
        .first()
    )


def login_failure_record(*, username, address):
    """Count a failed login; start the lockouts whose limit it reaches.
    Returns them (an empty list when none started)."""
    now = timezone.now()
    since = now - settings.LOGIN_FAILURE_WINDOW
    username, address = _key(username), address[:ADDRESS_LENGTH]
    with transaction.atomic():
        LoginFailure.objects.filter(at__lt=since).delete()
        LoginFailure.objects.create(username=username, address=address, at=now)
        counts = LoginFailure.objects.filter(address=address, at__gte=since).aggregate(
            pair=Count("pk", filter=Q(username=username)), address=Count("pk")
        )
        until = now + settings.LOGIN_LOCKOUT_DURATION
        started = [
            LoginLockout(username=name, address=address, started_at=now, until=until,
                         failures=counts[rule])
            for rule, name, limit in (
                ("pair", username, settings.LOGIN_PAIR_FAILURE_LIMIT),
                ("address", None, settings.LOGIN_ADDRESS_FAILURE_LIMIT),
            )
            if counts[rule] >= limit
        ]
        if started:
            LoginLockout.objects.filter(until__lte=now).delete()
            LoginLockout.objects.bulk_create(started)
    return started


def login_failures_reset(*, username, address):
    """After a successful login: forget its pair's failures (the address's
    count stays)."""
    LoginFailure.objects.filter(address=address[:ADDRESS_LENGTH], username=_key(username)).delete()


def lockouts_lift(*, lockouts):
    """End `lockouts` (a LoginLockout queryset) and forget the failures that
    started them, so the next failure does not lock again at once. Returns
    how many lockouts ended."""
    with transaction.atomic():
        ended = list(lockouts.select_for_update())
        for lockout in ended:
            failures = LoginFailure.objects.filter(address=lockout.address)
            if not lockout.covers_address:
                failures = failures.filter(username=lockout.username)
            failures.delete()
        LoginLockout.objects.filter(pk__in=[lockout.pk for lockout in ended]).delete()
    return len(ended)
