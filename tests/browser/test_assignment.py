"""The unassigned queue in Chromium: a manager assigns a waiting entry, the
telecaller who received it sees it as new on the dashboard and the list."""

import pytest
from playwright.sync_api import expect

from intake.models import IntakeEntry
from tests.factories import ManagerFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_assign_from_the_queue_and_the_telecaller_sees_it_new(
    page, live_server, login, logout, js_errors
):
    asha = UserFactory(username="asha")
    UserFactory(username="ravi")
    manager = ManagerFactory(username="meera")
    IntakeEntry.objects.create(customer_name="Kabir Shah", mobile="9829012345",
                               source="website", service_type="Service")
    IntakeEntry.objects.create(customer_name="Still Waiting", mobile="9829012346",
                               source="campaign")
    login(manager)
    page.goto(f"{live_server.url}/leads/")
    page.get_by_role("link", name="Unassigned queue").click()
    expect(page.locator(".queue-counts")).to_contain_text("2 waiting")
    page.get_by_label("Select Kabir Shah").check()
    page.get_by_label("Rule").select_option("manual")
    page.get_by_label("asha").check()
    page.get_by_role("button", name="Assign").click()
    expect(page.locator("#messages")).to_contain_text("Assigned 1 lead: asha 1.")
    expect(page.locator(".queue-counts")).to_contain_text("1 waiting")

    logout()
    login(asha)
    expect(page.get_by_role("link", name="New for you (1)")).to_be_visible()
    page.get_by_role("link", name="New for you (1)").click()
    expect(page.get_by_role("link", name="Kabir Shah")).to_be_visible()
    expect(page.get_by_text("Still Waiting")).to_have_count(0)
    assert js_errors == []
