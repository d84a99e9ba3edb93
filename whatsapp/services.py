"""Recording a WhatsApp message sent from a lead."""

from whatsapp.messages import fill, placeholder_values, whatsapp_url
from whatsapp.models import WhatsAppSend


def whatsapp_send_record(*, lead, user, template):
    """Fill `template` for `lead` as sent by `user`, record it, and return
    (the WhatsAppSend, the wa.me URL that opens it). ValidationError when the
    stored text is not a valid template (nothing recorded)."""
    text = fill(template.text, placeholder_values(lead=lead, sender=user))
    send = WhatsAppSend.objects.create(
        lead=lead, user=user, template=template, template_name=template.name, text=text,
    )
    return send, whatsapp_url(lead.mobile, text)
