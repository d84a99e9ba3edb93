"""The 403 and 404 pages: inside the site's layout, saying why and where to go.

Views raise ``PermissionDenied`` and ``Http404`` with a message written for the
user ("You can only see your own dashboard."); these handlers show it. A bare
exception (the admin's ``PermissionDenied``) and a URL that matches no route
(``Resolver404``, whose argument is the resolver's internals) get the generic
reason. Nothing in the project raises with internal details, and
``get_object_or_404``'s "No Lead matches the given query." is not used by views.
"""

from django.http import Http404
from django.shortcuts import render
from django.urls import Resolver404
from django.views.decorators.csrf import requires_csrf_token

FORBIDDEN_REASON = "Your account may not open this page."
NOT_FOUND_REASON = "There is no page at this address."


def _message(exception, default):
    message = exception.args[0] if exception is not None and exception.args else None
    return message if isinstance(message, str) and message.strip() else default


@requires_csrf_token
def permission_denied(request, exception=None):
    return render(request, "403.html", {"reason": _message(exception, FORBIDDEN_REASON)},
                  status=403)


@requires_csrf_token
def page_not_found(request, exception=None):
    if isinstance(exception, Resolver404) or not isinstance(exception, Http404):
        exception = None
    return render(request, "404.html", {"reason": _message(exception, NOT_FOUND_REASON)},
                  status=404)
