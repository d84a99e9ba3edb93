"""How the site shows dates to people (LANGUAGE_CODE "en-in"; Django ships no
en_IN formats, so its "en" ones would give "Nov. 30, 2026, 5:30 p.m.").

One form everywhere, admin included: "30 Nov 2026" and "30 Nov 2026, 17:30",
business time zone. Templates use `|date` and `|date:"DATETIME_FORMAT"`, Python
`django.utils.formats.date_format`. JSON and CSV keep ISO 8601. Input formats
are left to Django's "en" (the forms' own widgets send ISO).
"""

DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
FIRST_DAY_OF_WEEK = 1  # Monday
