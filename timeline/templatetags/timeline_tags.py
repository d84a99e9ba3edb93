"""The timeline's list items, built as escaped strings: fifty events through
Django's template engine cost more than the rest of the lead page (the same
choice as the dashboard's due rows; docs/performance.md)."""

from html import escape

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe

from crm.people_dates import format_for_people

register = template.Library()


@register.simple_tag
def timeline_items(events):
    items = []
    for event in events:
        at = timezone.localtime(event.at)
        via = f" · {escape(event.via)}" if event.via else ""
        detail = (f'<p class="pre event-detail">{escape(event.detail)}</p>'
                  if event.detail else "")
        items.append(
            f'<li class="event event-{escape(event.kind)}">'
            f"<p><strong>{escape(event.title)}</strong></p>"
            f'<p class="muted"><time datetime="{at.isoformat()}">'
            f'{escape(format_for_people(at))}</time> · {escape(event.actor)}{via}</p>'
            f"{detail}</li>"
        )
    return mark_safe("\n".join(items))
