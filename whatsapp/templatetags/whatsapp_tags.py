"""The WhatsApp button: a link to the lead's picker (templates and the
due list's Python-built rows use the same markup)."""

from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

register = template.Library()


def whatsapp_button_html(picker_url):
    """The button for the picker at `picker_url` (reverse("whatsapp:picker"))."""
    return mark_safe(f'<a class="whatsapp" href="{escape(picker_url)}">WhatsApp</a>')


@register.simple_tag
def whatsapp_button(lead):
    return whatsapp_button_html(reverse("whatsapp:picker", args=[lead.pk]))
