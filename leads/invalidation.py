"""The QuerySet whose bulk writes announce ``leads_changed`` (leads/signals.py)."""

from django.db import models, transaction

from leads.signals import announce_leads_changed


class InvalidatingQuerySet(models.QuerySet):
    """A QuerySet whose bulk writes (update, delete, bulk_create, and
    bulk_update through update) announce ``leads_changed`` for the owners they
    touch, on commit. Save signals do not fire for these paths, so the
    queryset itself makes sure no path forgets.

    Each costs one extra ``SELECT DISTINCT <owner>`` and one announcement per
    write, never work per row.
    """

    #: Name of the foreign key whose value owns a row.
    owner_field = None

    def _owner_attname(self):
        return self.model._meta.get_field(self.owner_field).attname

    def _owner_ids(self):
        return set(self.order_by().values_list(self._owner_attname(), flat=True).distinct())

    def update(self, **kwargs):
        owner_keys = {self.owner_field, self._owner_attname()}
        new_owner = next((kwargs[k] for k in owner_keys if k in kwargs), _ABSENT)
        with transaction.atomic(using=self.db, savepoint=False):
            owners = self._owner_ids()
            pks = None
            if new_owner is not _ABSENT and not isinstance(new_owner, (int, models.Model)):
                # An expression (bulk_update's CASE): look the new owners up after.
                pks = list(self.values_list("pk", flat=True))
            rows = super().update(**kwargs)
            if isinstance(new_owner, models.Model):
                owners.add(new_owner.pk)
            elif isinstance(new_owner, int):
                owners.add(new_owner)
            elif pks:
                owners |= set(
                    self.model._base_manager.using(self.db).filter(pk__in=pks)
                    .values_list(self._owner_attname(), flat=True).distinct()
                )
            if rows:
                announce_leads_changed(self.model, owner_ids=owners, using=self.db)
        return rows

    update.alters_data = True

    def update_owned_by(self, owner_ids, **kwargs):
        """update() for a caller that already knows the owners of the rows, as
        they are and as they will be (a service holding the row locked): the
        same announcement without the owner lookup."""
        with transaction.atomic(using=self.db, savepoint=False):
            rows = super().update(**kwargs)
            if rows:
                announce_leads_changed(self.model, owner_ids=owner_ids, using=self.db)
        return rows

    update_owned_by.alters_data = True

    def _cascade_owner_ids(self):
        """Owners of rows a delete of this queryset cascades to (none here)."""
        return set()

    def delete(self):
        with transaction.atomic(using=self.db, savepoint=False):
            owners = self._owner_ids() | self._cascade_owner_ids()
            deleted, per_model = super().delete()
            if deleted:
                announce_leads_changed(self.model, owner_ids=owners, using=self.db)
        return deleted, per_model

    delete.alters_data = True
    delete.queryset_only = True

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        attname = self._owner_attname()
        with transaction.atomic(using=self.db, savepoint=False):
            created = super().bulk_create(objs, *args, **kwargs)
            if created:
                announce_leads_changed(
                    self.model, owner_ids={getattr(obj, attname) for obj in objs}, using=self.db
                )
        return created

    bulk_create.alters_data = True


_ABSENT = object()
