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
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

leads_changed = Signal()

# The announcements a `batched_announcements()` block is collecting:
# {(sender, using): [owner ids, users_changed]}, or None outside a block.
_batch = ContextVar("leads_changed_batch", default=None)


@contextmanager
def batched_announcements():
    """Within the block, announcements are merged: one per database alias,
    sent on commit with every owner announced in the block (the first
    announcer is named as the sender). For a service whose one write
    reaches several announcing paths (the lead's update, its work-log row,
    the call it records): one invalidation instead of one per path.

    Use it inside the transaction (`with transaction.atomic(),
    batched_announcements():`): a block left by an exception registers
    nothing, as the transaction it is in is rolled back.
    """
    if _batch.get() is not None:  # already inside a block: join it
        yield
        return
    batch = {}
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    for using, (sender, owners, users_changed) in batch.items():
        _announce(sender, owner_ids=owners, users_changed=users_changed, using=using)


def announce_leads_changed(sender, *, owner_ids, users_changed=False, using=None):
    """Send ``leads_changed`` once the current transaction commits (at once in
    autocommit; never after a rollback).

    The callback is robust, and so is the send: a failing receiver is logged
    and neither the other receivers nor other on-commit callbacks are skipped.
    """
    owners = frozenset(int(owner) for owner in owner_ids if owner is not None)
    using = using or DEFAULT_DB_ALIAS
    batch = _batch.get()
    if batch is not None:
        sender, known, changed = batch.get(using, (sender, frozenset(), False))
        batch[using] = (sender, known | owners, changed or users_changed)
        return
    _announce(sender, owner_ids=owners, users_changed=users_changed, using=using)


def _announce(sender, *, owner_ids, users_changed, using):
    owners = owner_ids

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
