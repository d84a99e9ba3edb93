"""A lead's timeline: every source's events merged, newest first, a page at a time."""

import heapq
from itertools import islice

from timeline.sources import SOURCES

EVENTS_PER_PAGE = 50
MAX_PAGE = 1_000


def lead_timeline(lead, *, page=1, per_page=EVENTS_PER_PAGE, sources=SOURCES):
    """(events of page `page`, newest first; whether an older page exists).

    Each source is asked for its newest page × per_page + 1 events (one
    indexed query each) and the lists are merged: page 1 of a lead with
    thousands of events reads at most per_page + 1 rows per kind.
    """
    limit = page * per_page + 1
    merged = heapq.merge(*(source(lead, limit=limit) for source in sources),
                         key=lambda event: event.sort_key, reverse=True)
    window = list(islice(merged, (page - 1) * per_page, limit))
    return window[:per_page], len(window) > per_page
