from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"

    def ready(self):
        import leads.receivers  # noqa: F401  (connects the save receivers)
        from leads import db_upkeep

        # sender=self: post_migrate is sent once per app; once per migrate is enough.
        post_migrate.connect(
            db_upkeep.restore_counter_triggers, sender=self,
            dispatch_uid="leads.db_upkeep.restore_counter_triggers",
        )
