"""The dashboard in Chromium: pickers, quick update, cache invalidation end to
end, charts, the phone layout, and the same without JavaScript."""

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.dashboard.conftest import DAY, local
from tests.factories import FollowupSnapshotFactory, LeadFactory, ManagerFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def team():
    """asha: 2 leads new on DAY, ravi: 1 new on DAY and 1 on the day before;
    asha has 2 follow-ups due today with a start-of-day snapshot of 2."""
    today = timezone.localdate()
    asha, ravi = UserFactory(username="asha"), UserFactory(username="ravi")
    for creator, created_at in ((asha, local(DAY, 9)), (asha, local(DAY, 23, 59)),
                                (ravi, local(DAY)), (ravi, local(DAY - timedelta(days=1), 12))):
        LeadFactory(creator=creator, created_at=created_at, followup_date=None)
    due = [LeadFactory(creator=asha, customer_name=name, followup_date=local(today, hour),
                       created_at=local(today - timedelta(days=20)))
           for name, hour in (("Meera Nair", 9), ("Kabir Shah", 18))]
    FollowupSnapshotFactory(user=asha, date=today, initial_count=2)
    return asha, ravi, due, ManagerFactory(username="meera")


def _mark_page(page):
    # Survives only as long as no full page load happens.
    page.evaluate("window.__sameDocument = true")


def _same_document(page):
    return page.evaluate("window.__sameDocument === true")


def test_manager_changes_day_and_user_without_a_reload(page, live_server, login, team, js_errors):
    asha, ravi, _, manager = team
    login(manager)
    page.goto(f"{live_server.url}/dashboard/?date={DAY.isoformat()}")
    expect(page.locator("#total-new-leads")).to_have_text("3")
    _mark_page(page)

    page.get_by_label("Day", exact=True).fill((DAY - timedelta(days=1)).isoformat())
    expect(page.locator("#total-new-leads")).to_have_text("1")
    expect(page).to_have_url(re.compile(r"date=2024-05-09"))

    page.get_by_label("User", exact=True).select_option(label="asha")
    expect(page.locator("#dashboard-title")).to_contain_text("asha")
    expect(page.locator("#total-new-leads")).to_have_text("0")
    page.get_by_label("Day", exact=True).fill(DAY.isoformat())
    expect(page.locator("#total-new-leads")).to_have_text("2")
    expect(page).to_have_url(re.compile(rf"date=2024-05-10&user={asha.pk}$"))
    assert _same_document(page)

    page.go_back()  # the 9th, asha
    expect(page.locator("#total-new-leads")).to_have_text("0")
    expect(page.get_by_label("Day", exact=True)).to_have_value("2024-05-09")
    assert js_errors == []


def test_quick_update_by_a_telecaller_moves_the_managers_cached_numbers(
    page, live_server, login, logout, team, js_errors
):
    asha, _, due, manager = team
    login(manager)  # fills the team's cache entries
    expect(page.locator("#followups-worked")).to_have_text("0")
    expect(page.locator("#followups-pending")).to_have_text("2")
    today_worked = page.locator("svg.trend-chart g:last-of-type rect.bar-updates")
    expect(today_worked).to_have_attribute("data-count", "0")
    logout()

    login(asha)
    rows = page.locator("table.due tr[data-lead]")
    expect(rows).to_have_count(2)
    _mark_page(page)
    row = page.locator(f'tr[data-lead="{due[0].pk}"]')
    tomorrow = timezone.localdate() + timedelta(days=1)
    row.get_by_label("Next follow-up").fill(f"{tomorrow.isoformat()}T10:00")
    row.get_by_label("Remark", exact=True).fill("Call tomorrow morning")
    row.get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_contain_text("Updated Meera Nair")
    expect(rows).to_have_count(1)
    expect(page.locator("#followups-pending")).to_have_text("1")
    assert _same_document(page)
    logout()

    login(manager)
    expect(page.locator("#followups-worked")).to_have_text("1")
    expect(page.locator("#followups-pending")).to_have_text("1")
    expect(today_worked).to_have_attribute("data-count", "1")
    assert js_errors == []


def test_charts_render_every_bar(page, live_server, login, team, js_errors):
    _, _, _, manager = team
    login(manager)
    page.goto(f"{live_server.url}/dashboard/?date={DAY.isoformat()}")
    trend = page.locator("svg.trend-chart")
    expect(trend.locator("rect.bar")).to_have_count(42)  # 14 days x (new, follow-up updates, calls)
    expect(trend.locator("g[data-date]")).to_have_count(14)
    expect(trend.locator("g[data-date]").last).to_have_attribute("data-date", "2024-05-10")
    last_new = trend.locator('g[data-date="2024-05-10"] rect.bar-new_leads')
    expect(last_new).to_have_attribute("data-count", "3")
    assert last_new.bounding_box()["height"] > 100  # the tallest bar: 3 of 3
    assert trend.bounding_box()["width"] > 600
    expect(trend.locator("title").first).to_contain_text("to Fri 10 May")

    status = page.locator("svg.status-chart")
    expect(status.locator("rect.bar")).to_have_count(7)
    # asha's and ravi's four leads without a follow-up are open: unscheduled.
    expect(page.locator("#unscheduled")).to_have_text("4")
    expect(page.locator("#overdue-total")).to_have_text("0")
    widest = status.locator('g[data-status="needs_followup"] rect.bar')
    assert widest.bounding_box()["width"] > 50
    expect(status.locator("desc")).to_contain_text("Needs Followup: 6")

    page.get_by_text("Show the numbers").click()
    expect(page.locator('table.trend tr[data-date="2024-05-09"] td.num').first).to_have_text("1")
    assert js_errors == []


@pytest.mark.parametrize("who", ["telecaller", "manager"])
def test_phone_layout_has_no_horizontal_scrolling(page, live_server, login, team, js_errors, who):
    asha, _, due, manager = team
    page.set_viewport_size(PHONE)
    login(asha if who == "telecaller" else manager)
    expect(page.locator("table.due tr[data-lead]")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    row = page.locator(f'tr[data-lead="{due[1].pk}"]')
    save = row.get_by_role("button", name="Save")
    save.scroll_into_view_if_needed()
    box = save.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    status = row.get_by_label("Status", exact=True)
    assert status.bounding_box()["width"] > 200  # full width, not squeezed
    status.select_option(label="Confirmed")
    save.click()
    expect(page.locator("#messages")).to_contain_text("Updated Kabir Shah: Confirmed")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert js_errors == []


def _minutes_from_now(value):
    shown = timezone.make_aware(datetime.strptime(value, "%Y-%m-%dT%H:%M"))
    return (shown - timezone.now()).total_seconds() / 60


def test_followup_shortcuts_fill_the_field_and_did_not_pick_up_proposes_two_hours(
    page, live_server, login, team, js_errors
):
    asha, _, due, _ = team
    login(asha)
    row = page.locator(f'tr[data-lead="{due[0].pk}"]')
    field = row.get_by_label("Next follow-up")
    row.get_by_role("button", name="tomorrow").click()
    # Filled in the business time zone, to the minute; nothing was submitted.
    assert 24 * 60 - 2 <= _minutes_from_now(field.input_value()) <= 24 * 60
    expect(page.locator("#messages")).not_to_contain_text("Updated")
    field.fill("")
    row.get_by_label("Status", exact=True).select_option(label="Did Not Pick Up")
    assert 2 * 60 - 2 <= _minutes_from_now(field.input_value()) <= 2 * 60
    assert js_errors == []


def test_pickers_and_quick_update_work_without_javascript(browser, live_server, login, team):
    asha, _, due, manager = team
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        login(manager, on=page)
        page.get_by_label("Day", exact=True).fill(DAY.isoformat())
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(re.compile(r"date=2024-05-10"))
        expect(page.locator("#total-new-leads")).to_have_text("3")

        row = page.get_by_role("link", name="Dashboard").click()
        row = page.locator(f'tr[data-lead="{due[0].pk}"]')
        row.get_by_label("Status", exact=True).select_option(label="Open")
        # Without JavaScript a shortcut saves, with the follow-up the server works out.
        row.get_by_role("button", name="in 2 hours").click()
        expect(page.locator("#messages")).to_contain_text(
            "Updated Meera Nair: Open, next follow-up")
    finally:
        context.close()


def test_enter_without_javascript_saves_and_moves_no_followup(browser, live_server, login, team):
    """Enter presses a form's first submit button: it must be Save, never the
    first follow-up shortcut (which would move the follow-up by two hours)."""
    asha, _, _, _ = team
    later = timezone.now() + timedelta(days=3)
    lead = LeadFactory(creator=asha, customer_name="Ravi Iyer", followup_date=later)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        login(asha, on=page)
        page.goto(f"{live_server.url}/leads/{lead.pk}/edit/")
        page.locator("select[name=status]").select_option(label="Confirmed")
        with page.expect_navigation():
            page.locator("input[name=followup_date]").press("Enter")
        lead.refresh_from_db()
        assert lead.status == "confirmed"
        assert lead.followup_date == later  # unchanged, not "in 2 hours"
    finally:
        context.close()
