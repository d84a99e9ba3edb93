"""Deliberate changes to lead data. Views, forms, admin and commands call these."""

from django.db import transaction
from django.utils import timezone

from leads.models import Lead, LeadStatus


def leads_set_status(*, leads, status):
    """Set `status` on every lead in the queryset `leads`; return how many changed."""
    if status not in LeadStatus.values:
        raise ValueError(f"Unknown lead status {status!r}.")
    with transaction.atomic():
        return leads.update(status=status, modified_at=timezone.now())


def leads_reassign(*, leads, creator):
    """Make `creator` the owner of every lead in `leads`; return how many changed."""
    if not creator.is_active:
        raise ValueError(f"User {creator.username!r} is inactive and cannot own leads.")
    with transaction.atomic():
        return leads.update(creator=creator, modified_at=timezone.now())


def lead_create(*, creator, customer_name, mobile, car_registration="", status=None,
                followup_date=None, remarks=""):
    lead = Lead(
        creator=creator,
        customer_name=customer_name,
        mobile=mobile,
        car_registration=car_registration,
        status=status or LeadStatus.NEEDS_FOLLOWUP,
        followup_date=followup_date,
        remarks=remarks,
    )
    lead.full_clean()
    lead.save()
    return lead
