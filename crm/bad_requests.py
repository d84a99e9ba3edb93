"""Requests the CRM refuses, and the 400 page that says why.

``InputCheckMiddleware`` stops crafted input before it reaches a view or the
database: PostgreSQL refuses a NUL character in text, so a NUL that reached a
query would end as a 500. It runs at two points of the stack:

- before the session middleware, it ignores cookies that cannot be genuine: a
  session cookie that is not a session key the engines make (so it is simply
  no session), and any cookie holding a NUL;
- before the view, it refuses with 400 a NUL in the path, a header, a query
  parameter or a form field (name or value). By then the user is known, so
  the 400 page keeps the site's navigation.

``bad_request`` is the site's ``handler400``: Django sends it every
``BadRequest`` and ``SuspiciousOperation``, the upload limits among them
(``DATA_UPLOAD_MAX_MEMORY_SIZE``, ``DATA_UPLOAD_MAX_NUMBER_FIELDS``,
``DATA_UPLOAD_MAX_NUMBER_FILES``). It answers a page in the layout, or JSON
for JSON endpoints, saying what was wrong. Only messages written for the user
are shown: other exceptions' texts can name settings or internals.
"""

import re

from django.conf import settings
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.models import Session
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.views.decorators.csrf import requires_csrf_token

NUL = "\x00"

# The database and cache session engines make keys from these characters and
# store at most this many: anything else cannot name a session.
_SESSION_KEY = re.compile(
    f"[{re.escape(VALID_KEY_CHARS)}]{{8,{Session._meta.get_field('session_key').max_length}}}"
)

GENERIC_MESSAGE = "The request could not be understood. Go back and try again."


class BadInput(BadRequest):
    """A request refused with a message meant for the user."""


class InputCheckMiddleware:
    """See the module docstring. Place it before SessionMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _drop_impossible_cookies(request)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if NUL in request.path_info:
            raise BadInput("The address contains a NUL character (%00), which no page accepts.")
        for name, value in request.META.items():
            if name.startswith("HTTP_") and name != "HTTP_COOKIE" and NUL in value:
                header = name[5:].replace("_", "-").title()
                raise BadInput(f"The {header} header contains a NUL character, "
                               "which this site does not accept.")
        _refuse_nul_in(request.GET, "The query parameter")
        if request.method == "POST":
            _refuse_nul_in(request.POST, "The form field")
            _refuse_nul_in(request.FILES, "The form field")
        return None


def _drop_impossible_cookies(request):
    cookies = request.COOKIES
    for name, value in list(cookies.items()):
        if NUL in name or NUL in value:
            del cookies[name]
    session_key = cookies.get(settings.SESSION_COOKIE_NAME)
    if session_key is not None and not _SESSION_KEY.fullmatch(session_key):
        del cookies[settings.SESSION_COOKIE_NAME]


def _refuse_nul_in(query_dict, what):
    for name, values in query_dict.lists():
        if NUL in name or any(isinstance(value, str) and NUL in value for value in values):
            shown = name.replace(NUL, "%00")[:50]
            raise BadInput(f"{what} “{shown}” contains a NUL character (%00), "
                           "which this site does not accept.")


def _message(exception):
    if isinstance(exception, RequestDataTooBig):
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return (f"What was sent is too large: at most {limit} can be sent at once. "
                "Nothing was saved. Shorten the text (long remarks, for example) and try again.")
    if isinstance(exception, TooManyFieldsSent):
        return (f"What was sent has too many fields: at most "
                f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} are accepted. Nothing was saved.")
    if isinstance(exception, TooManyFilesSent):
        return (f"What was sent has too many files: at most "
                f"{settings.DATA_UPLOAD_MAX_NUMBER_FILES:,} are accepted. Nothing was saved.")
    if isinstance(exception, BadInput):
        return str(exception)
    return GENERIC_MESSAGE


def _wants_json(request):
    if request.path_info.endswith(".json"):
        return True
    # The admin's autocomplete asks with jQuery, which prefers JSON.
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


@requires_csrf_token
def bad_request(request, exception):
    message = _message(exception)
    if _wants_json(request):
        return JsonResponse({"error": message}, status=400)
    return render(request, "400.html", {"message": message}, status=400)
