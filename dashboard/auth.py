"""The authentication backend's old dotted path, kept as an alias.

Django resumes a session only while the backend path recorded in it is listed
in AUTHENTICATION_BACKENDS: sessions opened before the backend moved to
crm.auth say "dashboard.auth.ViewerBackend", and keep working through this.
"""

from crm.auth import ViewerBackend as ProjectViewerBackend


class ViewerBackend(ProjectViewerBackend):
    """Resumes sessions recorded under this path; never logs anyone in, so a
    failed login is not checked a second time (new logins record
    crm.auth.ViewerBackend, listed first)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        return None

    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        return None
