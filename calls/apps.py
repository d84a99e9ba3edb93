from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = "Calls"

    def ready(self):
        from calls import db_upkeep

        # sender=self: post_migrate is sent once per app; once per migrate is enough.
        post_migrate.connect(
            db_upkeep.restore_counter_triggers, sender=self,
            dispatch_uid="calls.db_upkeep.restore_counter_triggers",
        )
