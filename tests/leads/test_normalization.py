import pytest
from django.core.exceptions import ValidationError

from leads.normalization import (
    has_visible_character,
    mobile_search_prefix,
    normalize_mobile,
    normalize_registration,
    registration_search_prefix,
)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("9829012345", "9829012345"),
        ("98290 12345", "9829012345"),
        ("98290-12345", "9829012345"),
        ("+91 98290-12345", "9829012345"),
        ("+919829012345", "9829012345"),
        ("919829012345", "9829012345"),
        ("09829012345", "9829012345"),
        (" 6000000000 ", "6000000000"),
    ],
)
def test_normalize_mobile_accepts_indian_formats(raw, stored):
    assert normalize_mobile(raw) == stored


@pytest.mark.parametrize(
    "raw",
    ["", "12345", "5829012345", "98290123456", "+44 7911 123456", "98290abcde", "+91 58290 12345",
     "0091 98290 12345", "98290.12345"],
)
def test_normalize_mobile_rejects_others(raw):
    with pytest.raises(ValidationError) as excinfo:
        normalize_mobile(raw)
    assert "10-digit Indian mobile" in excinfo.value.messages[0]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("RJ14AB1234", "RJ14AB1234"),
        ("rj 14 ab 1234", "RJ14AB1234"),
        ("DL-3C-AF-0001", "DL3CAF0001"),
        ("22BH1234AA", "22BH1234AA"),
        ("22 bh 1234 a", "22BH1234A"),
        ("MH12A0007", "MH12A0007"),
        ("", ""),
        ("  ", ""),
    ],
)
def test_normalize_registration_accepts_state_and_bh_series(raw, stored):
    assert normalize_registration(raw) == stored


@pytest.mark.parametrize(
    "raw", ["RJ14AB12345", "R14AB1234", "1234", "22BH12AA", "RJ14_AB1234", "ABCDEFGH"]
)
def test_normalize_registration_rejects_others(raw):
    with pytest.raises(ValidationError) as excinfo:
        normalize_registration(raw)
    assert "RJ14AB1234" in excinfo.value.messages[0]


@pytest.mark.parametrize(
    ("term", "prefix"),
    [("+91 98290-12345", "9829012345"), ("98290", "98290"), ("098290", "98290"),
     ("919829012345", "9829012345"), ("RJ14", None), ("Sharma", None)],
)
def test_mobile_search_prefix(term, prefix):
    assert mobile_search_prefix(term) == prefix


def test_registration_search_prefix_normalises_like_the_model():
    assert registration_search_prefix("rj-14 ab") == "RJ14AB"
    assert registration_search_prefix("Mr. Sharma") is None


@pytest.mark.parametrize("text", [
    "", "   ", "\t\n", "\u200b", "\u200c\u200d", "\u2060", "\ufeff", " \u200b \u00a0",
    "\u00ad", "\u3164\u3164", "\u2800", "\u2028\u2029", "\x01",
])
def test_has_visible_character_is_false_for_blank_and_invisible_text(text):
    assert has_visible_character(text) is False


@pytest.mark.parametrize("text", ["Asha", "\u200bAsha", "राहुल", "முருகன்", "7", "."])
def test_has_visible_character_is_true_for_a_name(text):
    assert has_visible_character(text) is True
