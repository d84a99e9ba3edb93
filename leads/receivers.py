"""Save and delete receivers: their only job is announcing ``leads_changed``
(leads/signals.py) for writes made through ``save()``. Bulk paths announce
through InvalidatingQuerySet, deletes of single rows through the models'
delete() (a post_delete receiver would disable fast deletes)."""

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from leads.models import FollowupSnapshot, Lead, WorkedLead
from leads.signals import announce_leads_changed


@receiver(post_save, sender=Lead, dispatch_uid="leads.lead_saved_announces")
def lead_saved(sender, instance, using, **kwargs):
    owners = {instance.creator_id, getattr(instance, "_loaded_creator_id", None)}
    instance._loaded_creator_id = instance.creator_id
    announce_leads_changed(sender, owner_ids=owners, using=using)


@receiver(post_save, sender=FollowupSnapshot, dispatch_uid="leads.snapshot_saved_announces")
def snapshot_saved(sender, instance, using, **kwargs):
    announce_leads_changed(sender, owner_ids={instance.user_id}, using=using)


@receiver(post_save, sender=WorkedLead, dispatch_uid="leads.worked_saved_announces")
def worked_lead_saved(sender, instance, using, **kwargs):
    # The worker's trend (and the team's): the lead write beside it covers
    # only the lead's owner.
    announce_leads_changed(sender, owner_ids={instance.user_id}, using=using)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="leads.user_saved_announces")
def user_saved(sender, instance, using, update_fields=None, **kwargs):
    # A login only stamps last_login: nothing a reader shows.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    announce_leads_changed(sender, owner_ids={instance.pk}, users_changed=True, using=using)


@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="leads.user_deleted_announces")
def user_deleted(sender, instance, using, **kwargs):
    announce_leads_changed(sender, owner_ids={instance.pk}, users_changed=True, using=using)
