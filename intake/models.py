"""Leads on their way in: import batches, API tokens, and the intake queue.

A row of a file or a request to the API becomes an IntakeEntry. An entry with
an owner becomes a Lead at once (intake.services.create_leads_from_entries);
one without waits in the queue (state `waiting`) until a manager assigns it
or rejects it. The entry keeps when it arrived (`received_at`); the lead's
`created_at` is when it reached its owner.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from leads.models import (
    LEAD_TAG_MAX_CHARS,
    Lead,
    MobileNumberField,
    RegistrationField,
    validate_remarks_length,
)


class BatchStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"
    # Stopped part-way (a crash, a killed process): resume or revert it.
    INCOMPLETE = "incomplete", "Incomplete"
    REVERTED = "reverted", "Reverted"


class ImportBatch(models.Model):
    """One import of one file: who, when, how, and what came of it."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True, blank=True,  # null: the command line without --as
        on_delete=models.PROTECT,
        related_name="import_batches",
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=LEAD_TAG_MAX_CHARS, blank=True)
    file_name = models.CharField(max_length=255)
    # queue, round-robin, least-loaded or user:USERNAME (the command's --assign).
    assign = models.CharField(max_length=160, default="queue")
    # skip or create (the command's --duplicates).
    duplicates = models.CharField(max_length=10, default="skip")
    # The rest of the options as given: users, sheet, owner column used.
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=12, choices=BatchStatus.choices, default=BatchStatus.RUNNING
    )
    rows_total = models.PositiveIntegerField(default=0)
    # Rows stored as leads at once (an owner was known) and rows left waiting.
    leads_created = models.PositiveIntegerField(default=0)
    queued = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    reverted_at = models.DateTimeField(null=True, blank=True)
    reverted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True, blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name_plural = "import batches"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=BatchStatus.values), name="import_batch_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["-created_at"], name="import_batch_created_idx")]

    def __str__(self):
        return f"Import {self.pk}: {self.file_name} ({self.get_status_display()})"


def hash_token(raw):
    """The stored form of an API token (SHA-256 hex): tokens are long random
    strings, so a fast hash is enough and lets a request be looked up by it."""
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A per-source token for POST /api/intake/. Only its hash is stored; the
    token itself is shown once, when it is created."""

    name = models.CharField(max_length=100, help_text="Who uses it, e.g. the website's form.")
    # Every entry sent with this token gets this source.
    source = models.CharField(max_length=LEAD_TAG_MAX_CHARS)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, so people can tell tokens apart without the secret.
    prefix = models.CharField(max_length=12, editable=False)
    # Requests a minute; blank: the INTAKE_API_RATE_PER_MINUTE setting.
    rate_per_minute = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True, blank=True, editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API token"

    def __str__(self):
        state = " (revoked)" if self.revoked_at else ""
        return f"{self.name} [{self.source}] {self.prefix}…{state}"


class EntryState(models.TextChoices):
    WAITING = "waiting", "Waiting"
    ASSIGNED = "assigned", "Assigned"
    REJECTED = "rejected", "Rejected"


class IntakeEntryQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(state=EntryState.WAITING)


class IntakeEntry(models.Model):
    """A lead on its way in: the lead's fields, where it came from, when it
    arrived, and what became of it."""

    customer_name = models.CharField(max_length=100)
    mobile = MobileNumberField()  # normalised, as leads store it
    car_registration = RegistrationField(blank=True)
    car_model = models.CharField(max_length=LEAD_TAG_MAX_CHARS, blank=True, default="")
    service_type = models.CharField(max_length=LEAD_TAG_MAX_CHARS, blank=True, default="")
    remarks = models.TextField(blank=True, default="", validators=[validate_remarks_length])
    followup_date = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=LEAD_TAG_MAX_CHARS, blank=True, default="")
    # The sender's own id for the enquiry (API): a repeat is answered, not
    # stored. NULL, not '', for "none": the unique constraint skips NULLs.
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    # The data row of the file it came from (1 = the first row after the header).
    row_number = models.PositiveIntegerField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(
        max_length=10, choices=EntryState.choices, default=EntryState.WAITING
    )
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="intake_entries"
    )
    # Set when it arrived: an open lead or a waiting entry with the same
    # mobile. A note, not a link kept up to date: no constraint and no index,
    # so deleting leads or entries never scans or updates this table for it
    # (the id may point at a row deleted since; select_related gives None).
    duplicate_of_lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+",
        db_index=False, db_constraint=False,
    )
    duplicate_of_entry = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+",
        db_index=False, db_constraint=False,
    )
    rejected_reason = models.TextField(blank=True, default="")
    # When and by whom it was assigned or rejected (null: not yet, or the command line).
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True, blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    objects = IntakeEntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "intake entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=EntryState.values), name="intake_entry_state_valid"
            ),
            # The same enquiry sent twice by a source is stored once (the
            # token fixes the source, so a re-issued token keeps the rule).
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=Q(external_id__isnull=False),
                name="intake_entry_source_external_id_unique",
            ),
        ]
        indexes = [
            # The queue page: waiting entries, oldest first, and by source.
            models.Index(fields=["state", "received_at"], name="intake_state_received_idx"),
            models.Index(fields=["state", "source"], name="intake_state_source_idx"),
            # Duplicate checks by normalised mobile.
            models.Index(fields=["mobile"], name="intake_mobile_idx"),
        ]

    def __str__(self):
        return f"{self.customer_name} ({self.mobile}), {self.get_state_display()}"


class ProblemKind(models.TextChoices):
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class ImportRowProblem(models.Model):
    """A row of an import that did not become an entry: it failed a field
    rule (one row per problem) or was skipped as a duplicate. `cells` keeps
    the row as it came, for the failed-rows CSV."""

    batch = models.ForeignKey(
        ImportBatch, on_delete=models.CASCADE, related_name="problems",
        db_index=False,  # (batch, kind, row_number) leads with batch_id
    )
    kind = models.CharField(max_length=10, choices=ProblemKind.choices)
    row_number = models.PositiveIntegerField()
    column = models.CharField(max_length=255, blank=True)
    value = models.TextField(blank=True)
    message = models.TextField()
    cells = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ProblemKind.values), name="import_problem_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["batch", "kind", "row_number"], name="import_problem_batch_idx"),
        ]

    def __str__(self):
        return f"Row {self.row_number}: {self.message}"


class ApiRateWindow(models.Model):
    """Requests one API token made in one minute (minutes since the epoch):
    the rate limit counted in the database, so every process and host shares
    it, with or without Redis."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+",
                              db_index=False)
    minute = models.BigIntegerField()
    requests = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token", "minute"], name="api_rate_token_minute_unique"
            ),
        ]

    def __str__(self):
        return f"{self.token_id} @ {self.minute}: {self.requests}"
