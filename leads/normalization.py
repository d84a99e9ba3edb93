"""Normalisation and validation of the customer identifiers a lead carries.

One place for the rules, so the model fields, the admin search and every form
agree on what "the same mobile" or "the same registration" means.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError

_MOBILE_SEPARATORS = re.compile(r"[\s\-]+")
_MOBILE = re.compile(r"[6-9][0-9]{9}")
_REGISTRATION_SEPARATORS = re.compile(r"[\s\-]+")
# State series: state code, RTO number, up to three series letters, number
# (RJ14AB1234, DL3CAF0001, MH12A0007). BH series: year, BH, number, letters.
_STATE_SERIES = re.compile(r"[A-Z]{2}[0-9]{1,2}[A-Z]{0,3}[0-9]{4}")
_BH_SERIES = re.compile(r"[0-9]{2}BH[0-9]{4}[A-Z]{1,2}")
# The beginnings of those two shapes (every prefix of a valid registration).
_REGISTRATION_START = re.compile(
    r"[A-Z]{1,2}|[A-Z]{2}[0-9]{1,2}[A-Z]{0,3}[0-9]{0,4}|[0-9]{1,2}|[0-9]{2}B|[0-9]{2}BH[0-9]{0,4}[A-Z]{0,2}"
)

# Unicode categories that draw nothing: control and format characters (the
# zero-width spaces and joiners, U+2060, U+FEFF are format characters) and
# separators (spaces, line and paragraph separators).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
# Letters by category that render as blank space (Hangul fillers, the blank
# Braille pattern): the usual way to make a "name" that shows nothing.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")

MOBILE_ERROR = (
    "Enter a 10-digit Indian mobile number starting with 6, 7, 8 or 9 "
    "(spaces, dashes, a leading 0, +91 or 91 are fine)."
)
REGISTRATION_ERROR = (
    "Enter a car registration such as RJ14AB1234, DL3CAF0001 or 22BH1234AA."
)


def has_visible_character(text):
    """Whether `text` has at least one character that shows when printed."""
    return any(
        not (ch.isspace() or ch in _BLANK_LETTERS
             or unicodedata.category(ch) in _INVISIBLE_CATEGORIES)
        for ch in text or ""
    )


def strip_mobile_prefix(digits):
    """Drop a country code or trunk prefix from a run of digits ('+' already gone)."""
    if len(digits) == 12 and digits.startswith("91"):
        return digits[2:]
    if len(digits) == 11 and digits.startswith("0"):
        return digits[1:]
    return digits


def normalize_mobile(value):
    """Return the 10 stored digits, or raise ValidationError."""
    if value is None:
        raise ValidationError(MOBILE_ERROR, code="invalid_mobile")
    raw = _MOBILE_SEPARATORS.sub("", str(value))
    if raw.startswith("+"):
        if not raw.startswith("+91"):
            raise ValidationError(MOBILE_ERROR, code="invalid_mobile")
        raw = raw[3:]
    else:
        raw = strip_mobile_prefix(raw)
    if not _MOBILE.fullmatch(raw):
        raise ValidationError(MOBILE_ERROR, code="invalid_mobile")
    return raw


def normalize_registration(value):
    """Return the stored form (upper case, no spaces or dashes), '' for blank,
    or raise ValidationError."""
    if value is None:
        return ""
    raw = _REGISTRATION_SEPARATORS.sub("", str(value)).upper()
    if raw == "":
        return ""
    if not (_STATE_SERIES.fullmatch(raw) or _BH_SERIES.fullmatch(raw)):
        raise ValidationError(REGISTRATION_ERROR, code="invalid_registration")
    return raw


def mobile_search_prefix(term):
    """The stored-form prefix a (possibly partial, possibly formatted) mobile
    search term stands for, or None when the term is not a phone number."""
    raw = _MOBILE_SEPARATORS.sub("", term)
    if raw.startswith("+91"):
        raw = raw[3:]
    elif raw.startswith("0"):
        raw = raw[1:]
    elif len(raw) == 12 and raw.startswith("91"):
        raw = raw[2:]
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 10:
        return raw
    return None


def registration_search_prefix(term):
    """The stored-form prefix of a registration search term, or None when the
    term cannot start a registration."""
    raw = _REGISTRATION_SEPARATORS.sub("", term).upper()
    if raw and raw.isalnum() and raw.isascii() and len(raw) <= 20:
        return raw
    return None


def could_start_registration(prefix):
    """Whether a stored-form prefix (registration_search_prefix) can begin a
    valid registration: "RJ", "RJ14A" can, "MEERA" cannot."""
    return bool(prefix) and _REGISTRATION_START.fullmatch(prefix) is not None
