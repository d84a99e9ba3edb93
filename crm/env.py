"""Reading settings from the environment: environs converts and validates,
this module keeps the project's rules on top.

- Unset or blank means the default, so a process manager that writes `NAME=`
  for an unset variable gets the documented default.
- A bad value stops the process with ImproperlyConfigured naming the variable,
  the value and what is expected (environs accepts a few extra boolean
  spellings such as "t" and "y"; anything else, "maybe" included, is refused).
- Numbers are never negative.
"""

import os

from django.core.exceptions import ImproperlyConfigured
from environs import Env, EnvError, validate

_env = Env()

BOOLEAN_SPELLINGS = "one of 1/0, true/false, yes/no, on/off"


def _read(parse, name, default, expected, **options):
    if not os.environ.get(name, "").strip():
        return default
    try:
        return parse(name, **options)
    except EnvError as exc:
        raise ImproperlyConfigured(
            f"{name} must be {expected}; got {os.environ[name]!r}."
        ) from exc


def env_str(name, default=""):
    return _read(_env.str, name, default, "text")


def env_bool(name, default=False):
    return _read(_env.bool, name, default, BOOLEAN_SPELLINGS)


def env_int(name, default):
    return _read(_env.int, name, default, "a whole number >= 0", validate=validate.Range(min=0))


def env_float(name, default):
    return _read(_env.float, name, default, "a number >= 0", validate=validate.Range(min=0))


def env_list(name, default=()):
    """Comma-separated items, each stripped; empty items are dropped."""
    items = _read(_env.list, name, None, "a comma-separated list", subcast=str.strip)
    if items is None:
        return list(default)
    return [item for item in items if item]
