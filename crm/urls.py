from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from crm.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard:index"), name="home"),
    path("", include("dashboard.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("leads/unassigned/", include("intake.queue_urls")),
    # /leads/import/... and /api/intake/ (before leads/: its own pages).
    path("", include("intake.urls")),
    path("leads/", include("leads.urls")),
    path("leads/", include("timeline.urls")),
    path("leads/", include("whatsapp.urls")),
    path("healthz", healthz, name="healthz"),
]

# Bad input and requests over the upload limits: a page saying why (JSON for JSON endpoints).
handler400 = "crm.bad_requests.bad_request"
# Refused and missing pages: the reason the view gave, in the layout (crm/error_pages.py).
handler403 = "crm.error_pages.permission_denied"
handler404 = "crm.error_pages.page_not_found"

if settings.DEBUG_TOOLBAR_ENABLED:
    from debug_toolbar.toolbar import debug_toolbar_urls

    urlpatterns += debug_toolbar_urls()
