from django.conf import settings
from django.db import models
from django.utils import timezone

from leads.models import Lead
from whatsapp.messages import PLACEHOLDERS, TEXT_MAX_CHARS, validate_template_text


class WhatsAppTemplate(models.Model):
    """A message managers keep for telecallers to send from a lead (admin)."""

    name = models.CharField(max_length=100, unique=True)
    text = models.TextField(
        max_length=TEXT_MAX_CHARS, validators=[validate_template_text],
        help_text="Placeholders: " + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
        + ". To show a brace itself, type it twice.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "WhatsApp template"

    def __str__(self):
        return self.name


class WhatsAppSend(models.Model):
    """A WhatsApp message a user opened from a lead, as it was filled."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="whatsapp_sends",
                             db_index=False)  # (lead, sent_at, id) leads with lead_id
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="whatsapp_sends", db_index=False)
    # The template may be deleted later; its name and the text stay here.
    template = models.ForeignKey(WhatsAppTemplate, on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="sends", db_index=False)
    template_name = models.CharField(max_length=100)
    text = models.TextField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # A lead's sends, newest first (the lead page's timeline).
            models.Index(fields=["lead", "sent_at", "id"], name="whatsappsend_lead_time_idx"),
            # How often a user used each template (the picker's order).
            models.Index(fields=["user", "template"], name="whatsappsend_user_tpl_idx"),
        ]

    def __str__(self):
        return f"{self.template_name} to lead {self.lead_id} by {self.user_id}"
