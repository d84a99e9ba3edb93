"""Recording calls. A call is written with the lead change the same form
makes, in one transaction: both are kept or neither."""

from django.utils import timezone

from calls.models import CallLog
from leads import services as lead_services
from leads.signals import announce_leads_changed


def call_recorder(*, user, outcome, note="", duration=None, recorded=None):
    """A function of the lead as a write just stored it that records the call
    `user` made to it (for the write services' `also`, so the call commits
    or rolls back with the write) and announces the caller and the lead's
    owner: they differ when a manager calls. Each CallLog written is
    appended to the list `recorded`, when given. The fields are validated
    (ValidationError rolls the write back); the CHECK constraints hold the
    same rules, and checking them here would cost a statement each."""

    def record(lead):
        call = CallLog(lead=lead, user=user, outcome=outcome, note=note.strip(),
                       duration=duration, called_at=timezone.now())
        call.full_clean(exclude=["lead", "user"], validate_constraints=False)
        call.save(force_insert=True)
        announce_leads_changed(CallLog, owner_ids={user.pk, lead.creator_id})
        if recorded is not None:
            recorded.append(call)

    return record


def call_record_with_update(*, lead, user, outcome, note=None, duration=None, status,
                            followup_date, remark="", locked=False):
    """The quick update (leads.services.lead_quick_update: status, follow-up,
    remark line, its rules and its LeadChangedError) plus, when `outcome` is
    given, the CallLog row of the call it follows, in the same transaction.

    `note` is the call's own text; None takes the remark (the due card has
    one text box for both). `locked` as for lead_quick_update. Returns (lead
    as now stored, the CallLog or None).
    """
    recorded = []
    record = call_recorder(user=user, outcome=outcome,
                           note=remark if note is None else note, duration=duration,
                           recorded=recorded) if outcome else None
    updated = lead_services.lead_quick_update(
        lead=lead, user=user, status=status, followup_date=followup_date, remark=remark,
        also=record, locked=locked,
    )
    return updated, (recorded[0] if recorded else None)
