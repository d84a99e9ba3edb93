"""Recording calls. A call is written with the lead change the same form
makes, in one transaction: both are kept or neither."""

from django.utils import timezone

from calls.models import CallLog
from leads import services as lead_services
from leads.signals import announce_leads_changed


def call_record_with_update(*, lead, user, outcome, note=None, duration=None, status,
                            followup_date, remark="", locked=False):
    """The quick update (leads.services.lead_quick_update: status, follow-up,
    remark line, its rules and its LeadChangedError) plus, when `outcome` is
    given, the CallLog row of the call it follows, in the same transaction.

    `note` is the call's own text; None takes the remark (the due card has
    one text box for both).
    The call's caller and the lead's owner (they differ when a manager
    calls) are announced, so both dashboards and the team's are refreshed.
    `locked` as for lead_quick_update. Returns (lead as now stored, the
    CallLog or None).
    """
    recorded = []

    def record(updated):
        call = CallLog(lead=updated, user=user, outcome=outcome,
                       note=(remark if note is None else note).strip(),
                       duration=duration, called_at=timezone.now())
        # The CHECK constraints hold the same rules; validating them here
        # would cost a statement each.
        call.full_clean(exclude=["lead", "user"], validate_constraints=False)
        call.save(force_insert=True)
        announce_leads_changed(CallLog, owner_ids={user.pk, updated.creator_id})
        recorded.append(call)

    updated = lead_services.lead_quick_update(
        lead=lead, user=user, status=status, followup_date=followup_date, remark=remark,
        also=record if outcome else None, locked=locked,
    )
    return updated, (recorded[0] if recorded else None)
