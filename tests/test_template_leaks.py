"""No page shows template syntax as text: a `{# #}` comment spread over two
lines, or a tag the engine did not recognise, reaches the user verbatim."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import LeadFactory, ManagerFactory, UserFactory
from whatsapp.models import WhatsAppTemplate

pytestmark = pytest.mark.django_db

TEMPLATE_SYNTAX = re.compile(r"\{#|#\}|\{%|%\}|\{\{|\}\}")


class _VisibleText(HTMLParser):
    """The text a person sees: everything outside tags, scripts and styles,
    plus attribute values a browser shows (titles, placeholders, labels)."""

    SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "value"}

    def __init__(self):
        super().__init__()
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        self.parts += [value for name, value in attrs if name in self.SHOWN_ATTRIBUTES and value]

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(html):
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def test_visible_text_finds_a_leaked_comment():
    leaked = "<p>{# a comment spread\n over two lines #}</p><script>x = '{{';</script>"
    assert TEMPLATE_SYNTAX.findall(visible_text(leaked)) == ["{#", "#}"]


def _pages(lead):
    return [
        reverse("dashboard:index"),
        reverse("dashboard:index") + "?date=not-a-date",
        reverse("leads:list"),
        reverse("leads:create"),
        reverse("leads:edit", args=[lead.pk]),
        reverse("leads:correct", args=[lead.pk]),
        reverse("timeline:lead", args=[lead.pk]),
        reverse("timeline:lead", args=[lead.pk]) + "?page=x",
        reverse("whatsapp:picker", args=[lead.pk]),
    ]


@pytest.mark.parametrize("role", ["telecaller", "manager"])
def test_no_page_shows_template_syntax(client, role):
    telecaller = UserFactory()
    lead = LeadFactory(creator=telecaller, followup_date=timezone.now())
    WhatsAppTemplate.objects.create(name="Reminder", text="Hi {customer_name}, {{see you}}")
    viewer = telecaller if role == "telecaller" else ManagerFactory()
    urls = _pages(lead)
    if role == "manager":
        urls += [
            reverse("dashboard:cache_stats"),
            reverse("dashboard:index") + f"?user={telecaller.pk}",
            reverse("admin:leads_lead_changelist"),
            reverse("admin:leads_lead_change", args=[lead.pk]),
            reverse("intake_queue:unassigned"),
            reverse("leads:hand_over") + f"?from_user={telecaller.pk}",
            reverse("leads:reschedule") + f"?lead={lead.pk}",
            reverse("admin:whatsapp_whatsapptemplate_add"),
            reverse("admin:calls_calllog_changelist"),
        ]
    client.force_login(viewer)
    leaks = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 400), url
        found = TEMPLATE_SYNTAX.findall(visible_text(response.content.decode()))
        if found:
            leaks[url] = found
    assert leaks == {}


def test_login_page_shows_no_template_syntax(client):
    response = client.get(reverse("login"))
    assert TEMPLATE_SYNTAX.findall(visible_text(response.content.decode())) == []


def test_refused_quick_update_page_shows_no_template_syntax(client):
    telecaller = UserFactory()
    lead = LeadFactory(creator=telecaller)
    client.force_login(telecaller)
    response = client.post(reverse("leads:quick_update", args=[lead.pk]), {
        "status": "open", "outcome": "unknown", "duration": "-1", "remark": "{{ typed }}"})
    assert response.status_code == 400
    # What the user typed comes back as it was typed (escaped, as a value).
    assert TEMPLATE_SYNTAX.findall(visible_text(response.content.decode())) == ["{{", "}}"]
    assert 'value="{{ typed }}"' in response.content.decode()
