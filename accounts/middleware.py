from accounts import throttling, views


class LoginLockoutMiddleware:
    """Answers a login the throttle refused (accounts/throttling.py) with the
    login page saying why, HTTP 429, on every login form (the site's and the
    admin's): Django's authenticate() turns the backend's refusal into a plain
    "wrong password", which would hide the reason and the way out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        lockout = getattr(request, throttling.LOCKOUT_ATTRIBUTE, None)
        if lockout is None:
            return response
        return views.login_locked(request, lockout)
