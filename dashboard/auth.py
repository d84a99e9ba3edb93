from django.contrib.auth.backends import ModelBackend

from dashboard import selectors


class ViewerBackend(ModelBackend):
    """ModelBackend whose per-request user load also answers what every
    dashboard request asks (is the viewer a manager, is the cache bypassed),
    in the same statement: a warm dashboard request then runs one statement.

    Logging in, permissions and everything else are ModelBackend's.
    """

    def get_user(self, user_id):
        user = selectors.user_with_viewer_flags(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
