"""The signal the leads app sends when lead data changed, and the one helper
every write path reaches to send it.

``leads_changed`` is sent once per committed write, after the commit (never
for a rolled-back one), with:

- ``owner_ids``: a frozenset of the user ids whose leads (or work log, or
  snapshots) the write touched;
- ``users_changed``: True when user accounts changed (the list of people a
  manager picks from).

The leads app never imports its readers: they connect receivers to this
signal in their own ``AppConfig.ready()`` (the dashboard's cache does).
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

leads_changed = Signal()


def announce_leads_changed(sender, *, owner_ids, users_changed=False, using=None):
    """Send ``leads_changed`` once the current transaction commits (at once in
    autocommit; never after a rollback).

    The callback is robust, and so is the send: a failing receiver is logged
    and neither the other receivers nor other on-commit callbacks are skipped.
    """
    owners = frozenset(int(owner) for owner in owner_ids if owner is not None)

    def send():
        for receiver, result in leads_changed.send_robust(
            sender, owner_ids=owners, users_changed=users_changed
        ):
            if isinstance(result, Exception):
                logger.error(
                    "A leads_changed receiver (%r) failed for owners %s: %s",
                    receiver, sorted(owners), result, exc_info=result,
                )

    transaction.on_commit(send, using=using, robust=True)
