"""Signal receivers: their only job is telling the dashboard cache that data
changed. Bulk paths are covered by InvalidatingQuerySet, deletes of single
rows by the models' delete() (a post_delete receiver would disable fast
deletes)."""

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from leads.invalidation import schedule_dashboard_invalidation
from leads.models import FollowupSnapshot, Lead, WorkedLead


@receiver(post_save, sender=Lead, dispatch_uid="leads.lead_saved_invalidates_dashboard")
def lead_saved(sender, instance, using, **kwargs):
    owners = {instance.creator_id, getattr(instance, "_loaded_creator_id", None)}
    instance._loaded_creator_id = instance.creator_id
    schedule_dashboard_invalidation(user_ids=owners, using=using)


@receiver(
    post_save, sender=FollowupSnapshot, dispatch_uid="leads.snapshot_saved_invalidates_dashboard"
)
def snapshot_saved(sender, instance, using, **kwargs):
    schedule_dashboard_invalidation(user_ids={instance.user_id}, using=using)


@receiver(post_save, sender=WorkedLead, dispatch_uid="leads.worked_saved_invalidates_dashboard")
def worked_lead_saved(sender, instance, using, **kwargs):
    # The worker's trend (and the team's): the lead write beside it covers
    # only the lead's owner.
    schedule_dashboard_invalidation(user_ids={instance.user_id}, using=using)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="leads.user_saved_invalidates_dashboard")
def user_saved(sender, instance, using, update_fields=None, **kwargs):
    # A login only stamps last_login: nothing the dashboard shows.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    schedule_dashboard_invalidation(user_ids={instance.pk}, users_list=True, using=using)


@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="leads.user_deleted_invalidates_dashboard")
def user_deleted(sender, instance, using, **kwargs):
    schedule_dashboard_invalidation(user_ids={instance.pk}, users_list=True, using=using)
