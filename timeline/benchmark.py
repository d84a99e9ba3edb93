"""Data for measuring the lead page: one lead with a long history
(bench_dashboard's "lead page" row)."""

from django.db import connection, transaction
from django.utils import timezone

from leads import history
from leads.models import Lead, LeadStatus, WorkedLead, WorkKind
from timeline.sources import SOURCES
from whatsapp.models import WhatsAppSend

EVENTS = 1_000


def lead_with_history(*, events=EVENTS):
    """The oldest lead, given at least `events` timeline events if it has
    fewer: status changes through the ORM (recorded by the history
    triggers, as real ones are), follow-up moves and WhatsApp sends in bulk.
    Returns (lead, its number of events)."""
    lead = Lead.objects.order_by("pk").first()
    have = sum(len(source(lead, limit=events)) for source in SOURCES)
    if have < events:
        per_kind = (events - have) // 3 + 1
        now = timezone.now()
        with transaction.atomic(), history.acting_as(lead.creator, via=history.VIA_PAGE):
            statuses = (LeadStatus.CONFIRMED, LeadStatus.NEEDS_FOLLOWUP)
            for n in range(per_kind):
                Lead.objects.filter(pk=lead.pk).update(status=statuses[n % 2])
            WorkedLead.objects.bulk_create([
                WorkedLead(lead=lead, user=lead.creator, kind=WorkKind.MOVED,
                           work_date=timezone.localdate(now), worked_at=now,
                           old_followup_date=now, new_followup_date=now)
                for _ in range(per_kind)])
            WhatsAppSend.objects.bulk_create([
                WhatsAppSend(lead=lead, user=lead.creator, template_name="Reminder",
                             text="Your car is due for a service.", sent_at=now)
                for _ in range(per_kind)])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for table in ("leads_leadchange", "leads_workedlead", "whatsapp_whatsappsend"):
                    cursor.execute(f"ANALYZE {table}")
        have = sum(len(source(lead, limit=10 * events)) for source in SOURCES)
    return lead, have
