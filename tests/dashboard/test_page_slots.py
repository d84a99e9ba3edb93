"""Cutting a cached page at its per-request slots (dashboard/page_slots.py)."""

import re

import pytest

from dashboard.page_slots import (
    CSRF_PLACEHOLDER,
    MESSAGES_MARKER,
    NEXT_URL_PLACEHOLDER,
    VIEWER_MARKER,
    cut_at_slots,
)

CSRF = f'value="{CSRF_PLACEHOLDER}"'
NEXT = f'value="{NEXT_URL_PLACEHOLDER}"'
SLOTS = (CSRF, NEXT, str(VIEWER_MARKER), str(MESSAGES_MARKER))
SPLIT = re.compile("(" + "|".join(re.escape(slot) for slot in SLOTS) + ")")


@pytest.mark.parametrize("html", [
    "",
    "<p>no slot at all</p>",
    f"{CSRF}",
    f"{MESSAGES_MARKER}<main>{CSRF}{NEXT}</main>{VIEWER_MARKER}",
    f"<a>{VIEWER_MARKER}</a>" + "".join(f'<input {CSRF}><input {NEXT}>{n}' for n in range(60)),
    f"{NEXT}{NEXT}x{CSRF}{MESSAGES_MARKER}{MESSAGES_MARKER}",
    # Escaped user text can hold the placeholder's letters, never a slot.
    f"<td>{CSRF_PLACEHOLDER} &lt;!--crm:viewer--&gt;</td><input {CSRF}>",
])
def test_cut_like_a_split_at_the_slots(html):
    pieces = cut_at_slots(html)
    assert pieces == SPLIT.split(html)
    assert "".join(pieces) == html
    assert all(piece in SLOTS for piece in pieces[1::2])
