"""The pages under their Content-Security-Policy in Chromium: the dashboard,
the lead pages and admin, used as each role uses them, without one violation.

A violation is caught twice: a `securitypolicyviolation` listener in every
document (reported to the test through an exposed function, so none is lost
to a navigation) and Chromium's console message about it.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import expect

from tests.dashboard.conftest import local
from tests.factories import LeadFactory, ManagerFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const text = `${event.violatedDirective} ${event.blockedURI} `
               + `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(text);
  window.__cspViolation(text);
});
"""


@pytest.fixture
def csp_violations(page):
    """Every CSP violation in `page` from here on, as text; a test that ends
    with any fails."""
    violations = []
    page.expose_function("__cspViolation", lambda text: violations.append(text))
    page.add_init_script(LISTENER)
    page.on("console", lambda message: "Content Security Policy" in message.text
            and violations.append(f"console: {message.text}"))
    yield violations
    assert violations == [], "Content-Security-Policy violations"


@pytest.fixture(autouse=True)
def _no_favicon_errors(page, js_errors):
    """Django's admin pages (and its 403 page) name no icon, so Chromium asks
    for /favicon.ico, which the site does not serve: a 404 in the console
    whenever the request goes out before the next navigation. Not what these
    tests are about, so those console lines, and only those, leave js_errors."""
    favicon = []
    page.on("console", lambda message: message.type == "error"
            and message.location.get("url", "").endswith("/favicon.ico")
            and favicon.append(message.text))
    yield
    for text in favicon:
        js_errors.remove(text)


@pytest.fixture
def visit(page, live_server):
    """visit(path) opens a page and checks it came with the policy, so a
    page without violations is one that ran under it."""

    def open_page(path):
        response = page.goto(f"{live_server.url}{path}")
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self';" in f"{policy};", path
        assert "style-src 'self';" in f"{policy};", path
        return response

    return open_page


@pytest.fixture
def team():
    """asha, a telecaller with two leads due today (new today, so the charts
    have bars), a manager and a superuser."""
    today = timezone.localdate()
    asha = UserFactory(username="asha")
    due = [LeadFactory(creator=asha, customer_name=name, mobile=mobile,
                       followup_date=local(today, hour), created_at=local(today, 8))
           for name, mobile, hour in (("Meera Nair", "9829012345", 9),
                                      ("Kabir Shah", "9829054321", 18))]
    return asha, due, ManagerFactory(username="meera"), UserFactory(superuser=True, username="boss")


def _use_the_dashboard(page, lead, *, manager):
    expect(page.locator("svg.trend-chart rect.bar")).to_have_count(42)
    # One bar per status, lost included.
    expect(page.locator("svg.status-chart rect.bar")).to_have_count(7)
    page.get_by_text("Show the numbers").click()
    # The day picker and (for managers) the user picker swap the page's data in place.
    yesterday = timezone.localdate() - timedelta(days=1)
    page.get_by_label("Day", exact=True).fill(yesterday.isoformat())
    expect(page).to_have_url(re.compile(rf"date={yesterday.isoformat()}"))
    page.go_back()
    # Back on today's page (its data swapped in) before the next choice.
    today = date_format(timezone.localdate())
    expect(page.locator("#dashboard-title")).to_contain_text(today)
    if manager:
        page.get_by_label("User", exact=True).select_option(label="asha")
        expect(page.locator("#dashboard-title")).to_contain_text("asha")
    row = page.locator(f'tr[data-lead="{lead.pk}"]')
    row.get_by_label("Remark", exact=True).fill("Called, will visit")
    # The shortcut script runs under the policy too (the rows' follow-ups may be past).
    row.get_by_role("button", name="tomorrow").click()
    row.get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_contain_text(f"Updated {lead.customer_name}")


def _use_the_lead_pages(page, visit, lead):
    visit("/leads/?q=98290")
    expect(page.locator("table.leads")).to_contain_text(lead.customer_name)
    visit("/leads/new/")
    page.get_by_label("Customer name").fill("Another Name")
    page.get_by_label("Mobile").fill(lead.mobile)
    page.get_by_role("button", name="Save lead").click()
    expect(page.locator(".duplicate-warning")).to_be_visible()
    visit(f"/leads/{lead.pk}/")
    expect(page.locator("ol.timeline")).to_contain_text("Lead created")
    visit(f"/leads/{lead.pk}/whatsapp/")
    visit(f"/leads/{lead.pk}/edit/")
    page.get_by_label("Add a remark").fill("Wants a Saturday slot")
    page.get_by_role("button", name="in 3 days").click()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/leads/$"))


def test_telecaller_pages_run_under_the_policy(page, visit, login, team, csp_violations):
    asha, due, _, _ = team
    page.set_viewport_size(PHONE)
    login(asha)
    visit("/dashboard/")
    _use_the_dashboard(page, due[0], manager=False)
    _use_the_lead_pages(page, visit, due[1])
    # Not staff: admin answers with its login page, under the policy as well.
    visit("/admin/")
    expect(page.locator("#content")).to_contain_text("not authorized")
    assert csp_violations == []


def test_manager_pages_run_under_the_policy(page, visit, login, team, csp_violations):
    _, due, manager, _ = team
    page.set_viewport_size(DESKTOP)
    login(manager)
    visit("/dashboard/")
    _use_the_dashboard(page, due[0], manager=True)
    _use_the_lead_pages(page, visit, due[1])
    visit("/dashboard/cache/")

    visit("/admin/")
    visit("/admin/leads/lead/")
    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option("set_status")
    page.locator("#changelist-filter").get_by_role("link", name="Confirmed").click()
    expect(page).to_have_url(re.compile(r"status__exact=confirmed"))

    visit(f"/admin/leads/lead/{due[0].pk}/change/")
    page.locator(".datetimeshortcuts a", has_text="Today").first.click()
    page.locator("a[id^=calendarlink]").first.click()
    expect(page.locator(".calendarbox").first).to_be_visible()
    page.locator("a[id^=clocklink]").first.click()
    expect(page.locator(".clockbox").first).to_be_visible()
    assert csp_violations == []


def test_admin_autocomplete_and_user_pages_run_under_the_policy(
    page, visit, login, team, csp_violations
):
    _, due, _, boss = team
    page.set_viewport_size(DESKTOP)
    login(boss)
    visit(f"/admin/leads/lead/{due[0].pk}/change/")
    page.locator(".field-creator .select2-selection").click()
    page.locator(".select2-search__field").fill("as")
    expect(page.locator(".select2-results__option", has_text="asha")).to_be_visible()
    page.locator(".select2-results__option", has_text="asha").click()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    visit("/admin/leads/lead/add/")
    # Two-list permission pickers (SelectFilter2) and the password widget.
    visit(f"/admin/auth/user/{boss.pk}/change/")
    expect(page.locator("#id_user_permissions_from")).to_be_visible()
    page.locator("#id_user_permissions_input").fill("lead")
    assert csp_violations == []


def test_an_inline_style_is_reported(page, visit, login, team, csp_violations, js_errors):
    """The checks above can fail: a style attribute set from script is refused,
    and both the listener and the console report it."""
    asha, _, _, _ = team
    login(asha)
    visit("/dashboard/")

    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.evaluate("document.body.setAttribute('style', 'background: red')")
    page.wait_for_function("window.__cspViolations.length === 1")

    assert page.evaluate("window.__cspViolations[0].split(' ')[0]") == "style-src-attr"
    expect(page.locator("body")).not_to_have_css("background-color", "rgb(255, 0, 0)")
    assert sorted(text.split(" ")[0] for text in csp_violations) == ["console:", "style-src-attr"]
    # Seen; the fixtures' end-of-test checks would otherwise fail this test.
    csp_violations.clear()
    js_errors.clear()
