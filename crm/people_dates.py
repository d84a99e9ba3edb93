"""Dates and times for people, in the site's one format (crm/formats/en_IN),
fast enough for lists.

`django.utils.formats.date_format` looks the format up and parses it on
every call, about 25 µs each; a cold dashboard page formats a hundred
(the due cards' follow-ups and last calls). `format_for_people` gives the
same text from the format compiled once per format name and language, and
falls back to `date_format` for a format letter it does not know, so a
changed format file never shows something different: only slower.
"""

from functools import lru_cache

from django.utils import translation
from django.utils.dates import MONTHS_3
from django.utils.formats import date_format, get_format


def _month_abbreviations():
    # Django's "M": the translated three-letter month, title-cased.
    return {month: str(name).title() for month, name in MONTHS_3.items()}


def _fields(months):
    return {
        "j": lambda value: str(value.day),
        "d": lambda value: f"{value.day:02d}",
        "n": lambda value: str(value.month),
        "m": lambda value: f"{value.month:02d}",
        "M": lambda value: months[value.month],
        "Y": lambda value: str(value.year),
        "H": lambda value: f"{value.hour:02d}",
        "G": lambda value: str(value.hour),
        "i": lambda value: f"{value.minute:02d}",
    }


@lru_cache(maxsize=32)
def compiled_format(format_name, language):
    """The pieces of `format_name` (e.g. "DATETIME_FORMAT") in `language`:
    literal strings and field functions; None when the format uses a letter
    the fast path does not know."""
    fields = _fields(_month_abbreviations())
    pieces, escaped = [], False
    for char in get_format(format_name):
        if escaped:
            pieces.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in fields:
            pieces.append(fields[char])
        elif char.isalpha():
            return None
        else:
            pieces.append(char)
    return tuple(pieces)


def format_for_people(value, format_name="DATETIME_FORMAT"):
    """`value` (a date or datetime, in the zone it carries) as
    date_format(value, format_name) gives it."""
    pieces = compiled_format(format_name, translation.get_language())
    if pieces is None:
        return date_format(value, format_name)
    return "".join(piece if isinstance(piece, str) else piece(value) for piece in pieces)
