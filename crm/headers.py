"""``Cache-Control: private, no-store`` on every response to a browser with a
session (every logged-in user has one), so neither a shared proxy nor the
browser's disk keeps a page of customer names and mobile numbers (the back
button on a shared computer included).

A view's own Cache-Control wins: Django's admin (``never_cache``, which has
private and no-store among its directives), the login page and /healthz
already send one. Static files never reach this middleware (WhiteNoise,
earlier in MIDDLEWARE, answers them) and keep their long-lived headers.
Answers to a browser without a session (the login page, a redirect to it,
a 403) carry no customer data and are left as they are.

The header is set per response, after the view: the dashboard's whole-page
cache (dashboard/page_slots.py) stores rendered text on the server, never a
response, so a page served from it gets the header too.
"""

from django.conf import settings

PRIVATE_CACHE_CONTROL = "private, no-store"


class PrivateCacheControlMiddleware:
    """Decides by the session cookie, which every logged-in browser sends:
    no user or session lookup of its own, so it costs a page that never
    looked at the user nothing (the Server-Timing figures stay the page's
    own) and works with the database or Redis down. A browser left with a
    stale cookie gets the header too, at the cost of an uncached page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if ("Cache-Control" not in response.headers
                and settings.SESSION_COOKIE_NAME in request.COOKIES):
            response.headers["Cache-Control"] = PRIVATE_CACHE_CONTROL
        return response
