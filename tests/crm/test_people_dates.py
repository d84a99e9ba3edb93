"""crm.people_dates gives exactly what Django's date_format gives, faster."""

from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.utils import translation
from django.utils.formats import date_format

from crm import people_dates
from crm.people_dates import compiled_format, format_for_people

FORMATS = ("DATETIME_FORMAT", "DATE_FORMAT", "TIME_FORMAT", "SHORT_DATETIME_FORMAT",
           "MONTH_DAY_FORMAT", "YEAR_MONTH_FORMAT")
IST = dt_timezone(timedelta(hours=5, minutes=30))


def _moments():
    # Every month, single- and double-digit days, midnight, noon, 23:59.
    for month in range(1, 13):
        for day, hour, minute in ((1, 0, 0), (9, 9, 5), (28, 12, 0), (15, 23, 59)):
            yield datetime(2026, month, day, hour, minute, tzinfo=IST)


@pytest.mark.parametrize("format_name", FORMATS)
def test_same_text_as_date_format(format_name):
    for moment in _moments():
        assert format_for_people(moment, format_name) == date_format(moment, format_name)


def test_the_sites_format_is_the_one_compiled():
    assert format_for_people(datetime(2026, 11, 30, 17, 30, tzinfo=IST)) == "30 Nov 2026, 17:30"
    assert format_for_people(date(2026, 3, 2), "DATE_FORMAT") == "2 Mar 2026"
    assert compiled_format("DATETIME_FORMAT", translation.get_language()) is not None


def test_a_format_letter_it_does_not_know_falls_back_to_django(monkeypatch):
    compiled_format.cache_clear()
    # "N" (the AP style month) and "a" are not in the fast path.
    monkeypatch.setattr(people_dates, "get_format", lambda name: "N j, Y, P")
    moment = datetime(2026, 9, 3, 17, 30, tzinfo=IST)
    try:
        assert compiled_format("DATETIME_FORMAT", translation.get_language()) is None
        assert format_for_people(moment) == date_format(moment, "DATETIME_FORMAT")
    finally:
        compiled_format.cache_clear()


def test_escaped_letters_stay_literal(monkeypatch):
    compiled_format.cache_clear()
    monkeypatch.setattr(people_dates, "get_format", lambda name: r"j M \a\t H:i")
    try:
        moment = datetime(2026, 9, 3, 7, 5, tzinfo=IST)
        assert format_for_people(moment) == "3 Sep at 07:05"
    finally:
        compiled_format.cache_clear()
