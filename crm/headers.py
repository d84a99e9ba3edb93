"""``Cache-Control: private, no-store`` on every response to a logged-in user,
so neither a shared proxy nor the browser's disk keeps a page of customer
names and mobile numbers (the back button on a shared computer included).

A view's own Cache-Control wins: Django's admin (``never_cache``, which has
private and no-store among its directives), the login page and /healthz
already send one. Static files never reach this middleware (WhiteNoise,
earlier in MIDDLEWARE, answers them) and keep their long-lived headers.
Anonymous answers (the login page, a redirect to it, a 403) carry no
customer data and are left as they are.

The header is set per response, after the view: the dashboard's whole-page
cache (dashboard/page_slots.py) stores rendered text on the server, never a
response, so a page served from it gets the header too.
"""

from django.db import DatabaseError

PRIVATE_CACHE_CONTROL = "private, no-store"


class PrivateCacheControlMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Cache-Control" not in response.headers and _logged_in(request):
            response.headers["Cache-Control"] = PRIVATE_CACHE_CONTROL
        return response


def _logged_in(request):
    user = getattr(request, "user", None)
    if user is None:
        return False
    try:
        return bool(user.is_authenticated)
    except DatabaseError:
        # The user may load only now. A page that answered must not become a
        # 500 over a header, and it may hold data: keep it out of caches.
        return True
