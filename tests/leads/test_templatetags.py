import re
from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.middleware.csrf import get_token
from django.test import RequestFactory

from leads.models import WorkedLead
from leads.templatetags.leads_tags import datetime_local, render_quick_update_form, status_label
from tests.factories import LeadFactory

IST = ZoneInfo("Asia/Kolkata")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2026-11-28T05:00:00+00:00", "2026-11-28T10:30"),
        ("2026-11-28T10:30:59.999+05:30", "2026-11-28T10:30"),
        (datetime(2026, 11, 28, 18, 45, tzinfo=ZoneInfo("UTC")), "2026-11-29T00:15"),
        ("2026-11-28T10:30:00", "2026-11-28T10:30"),  # naive: already local
        ("", ""), (None, ""), ("not a date", ""),
    ],
)
def test_datetime_local_shows_the_time_zone_value(value, shown):
    assert datetime_local(value) == shown


def test_status_label():
    assert (status_label("did_not_pick_up"), status_label("odd")) == ("Did Not Pick Up", "odd")


class _FormFields(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields, self.labels, self.form = {}, [], {}
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.form = attrs
        elif tag == "input" and (attrs.get("type") not in ("checkbox", "radio")
                                 or "checked" in attrs):
            # What a browser sends: an unticked box or radio button sends nothing.
            self.fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "select":
            self._select = attrs["name"]
        elif tag == "option" and "selected" in attrs:
            self.fields[self._select] = attrs["value"]
        elif tag == "label":
            self.labels.append(attrs["for"])


def _render(item, request):
    html = render_quick_update_form(
        item, csrf_token=get_token(request), next_url="/dashboard/?day=2026-11-28",
        action_url=f"/leads/{item['id']}/quick-update/")
    parser = _FormFields()
    parser.feed(html)
    return html, parser


def _item(lead):
    return {"id": lead.pk, "customer_name": lead.customer_name, "mobile": lead.mobile,
            "car_registration": lead.car_registration, "status": lead.status,
            "followup_date": lead.followup_date.isoformat(), "creator_id": lead.creator_id}


@pytest.mark.django_db
def test_quick_update_form_renders_a_labelled_form_with_csrf(telecaller):
    lead = LeadFactory(creator=telecaller, status="open",
                       followup_date=datetime(2026, 11, 28, 16, 30, 12, 5, tzinfo=IST))
    request = RequestFactory().get("/dashboard/")
    request.user = telecaller
    html, form = _render(_item(lead), request)
    assert form.form == {"method": "post", "action": f"/leads/{lead.pk}/quick-update/",
                         "class": "quick-update", "aria-label": f"Update {lead.customer_name}"}
    assert sorted(form.fields) == ["csrfmiddlewaretoken", "duration", "followup_date", "next",
                                   "outcome", "remark", "status"]
    # No outcome unless one is tapped: opening the form (or `tel:`) records no call.
    assert (form.fields["outcome"], form.fields["duration"]) == ("", "")
    assert re.fullmatch(r"\w{64}", form.fields["csrfmiddlewaretoken"])
    assert (form.fields["status"], form.fields["followup_date"], form.fields["next"]) == (
        "open", "2026-11-28T16:30", "/dashboard/?day=2026-11-28")
    outcomes = ["none", "connected", "no_answer", "busy", "switched_off", "wrong_number",
                "call_back_later", "not_interested"]
    ids = [*(f"qu-{lead.pk}-outcome-{value}" for value in outcomes), f"qu-{lead.pk}-duration",
           f"qu-{lead.pk}-status", f"qu-{lead.pk}-followup", f"qu-{lead.pk}-no-followup",
           f"qu-{lead.pk}-remark"]
    assert form.labels == ids
    assert all(f'id="{control_id}"' in html for control_id in ids)


@pytest.mark.django_db
def test_quick_update_include_posts_back_without_moving_an_untouched_followup(
        telecaller_client, telecaller):
    followup = datetime(2030, 11, 28, 16, 30, 12, 5, tzinfo=IST)
    lead = LeadFactory(creator=telecaller, followup_date=followup)
    request = RequestFactory().get("/dashboard/")
    request.user = telecaller
    _, form = _render(_item(lead), request)
    data = {**form.fields, "status": "did_not_pick_up", "remark": "No answer"}
    response = telecaller_client.post(form.form["action"], data)
    assert response["Location"] == "/dashboard/?day=2026-11-28"
    lead.refresh_from_db()
    assert (lead.status, lead.followup_date) == ("did_not_pick_up", followup)
    assert WorkedLead.objects.count() == 0


@pytest.mark.django_db
def test_quick_update_form_offers_the_followup_shortcuts_as_submit_buttons(telecaller):
    lead = LeadFactory(creator=telecaller)
    request = RequestFactory().get("/dashboard/")
    request.user = telecaller
    html, _ = _render(_item(lead), request)
    buttons = re.findall(
        r'<button type="submit" class="followup-shortcut" name="followup_shortcut"'
        rf' value="(\w+)" data-target="qu-{lead.pk}-followup">([^<]+)</button>', html)
    assert buttons == [("2h", "in 2 hours"), ("tomorrow", "tomorrow"), ("3d", "in 3 days"),
                       ("week", "next week")]
    assert 'data-time-zone="Asia/Kolkata"' in html
