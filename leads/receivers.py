"""Save and delete receivers: their only job is announcing ``leads_changed``
(leads/signals.py) for writes made through ``save()``. Bulk paths announce
through InvalidatingQuerySet, deletes of single rows through the models'
delete() (a post_delete receiver would disable fast deletes)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_save
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


@receiver(m2m_changed, sender=get_user_model().groups.through,
          dispatch_uid="leads.user_groups_changed_announces")
def user_groups_changed(sender, instance, action, reverse, pk_set, using, **kwargs):
    # Group membership decides who may own leads (leads/people.py): the
    # readers' lists of people change. From the group's side (`reverse`),
    # pk_set holds the users; a group's clear() does not say whom it removed.
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    users = (pk_set or set()) if reverse else {instance.pk}
    announce_leads_changed(sender, owner_ids=users, users_changed=True, using=using)
