"""Command-line options shared by the management commands."""

from django.core.management.base import CommandError
from django.utils import timezone

from leads.models import parse_day


def date_option(value):
    """The business day a `--date` option names: today in TIME_ZONE when it
    is not given, else `parse_day`'s date; a bad value is a CommandError."""
    if value is None:
        return timezone.localdate()
    try:
        return parse_day(value)
    except ValueError as exc:
        raise CommandError(f"--date {exc}") from None
