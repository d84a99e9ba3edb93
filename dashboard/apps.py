from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"

    def ready(self):
        from dashboard.receivers import invalidate_on_leads_changed
        from leads.signals import leads_changed

        leads_changed.connect(
            invalidate_on_leads_changed, dispatch_uid="dashboard.invalidate_on_leads_changed"
        )
