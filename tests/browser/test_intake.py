"""The file import in Chromium: upload -> preview -> import -> result, and the
telecaller who received leads sees them on the lead list and the dashboard."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import ManagerFactory, UserFactory
from tests.intake.conftest import csv_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.INTAKE_UPLOAD_DIR = tmp_path / "uploads"


def test_upload_preview_import_and_the_telecaller_sees_the_leads(
    page, live_server, login, logout, tmp_path, js_errors
):
    asha = UserFactory(username="asha")
    manager = ManagerFactory(username="meera")
    path = tmp_path / "campaign.csv"
    path.write_bytes(csv_bytes([
        ["Name", "Phone", "Owner", "Car model"],
        ["Kabir Shah", "+91 98290 12345", "asha", "Swift"],
        ["Waiting One", "9829012346", "", "City"],
        ["Broken", "123", "", ""],
    ]))
    login(manager)
    page.goto(f"{live_server.url}/leads/")
    page.get_by_role("link", name="Import leads").click()
    page.get_by_label("CSV or Excel file").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="Preview of campaign.csv")).to_be_visible()
    expect(page.locator(".import-counts")).to_contain_text("Invalid: 1")
    expect(page.get_by_role("cell", name="9829012345")).to_be_visible()
    page.get_by_role("button", name="Import 2 valid rows").click()
    expect(page).to_have_url(re.compile(r"/leads/import/\d+/$"))
    expect(page.locator(".import-counts")).to_contain_text("leads created: 1")
    expect(page.get_by_role("link", name="Kabir Shah")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Download the failed rows"))).to_be_visible()

    logout()
    login(asha)
    expect(page.locator("#total-new-leads")).to_have_text("1")
    page.goto(f"{live_server.url}/leads/")
    expect(page.get_by_role("link", name="Kabir Shah")).to_be_visible()
    expect(page.get_by_text("Waiting One")).to_have_count(0)


def test_import_into_the_queue_assign_round_robin_and_each_telecaller_sees_theirs(
    page, live_server, login, logout, tmp_path, js_errors
):
    """The whole way in for a campaign file without owners: upload, preview,
    import into the unassigned queue, hand out round-robin, and each
    telecaller finds their new leads."""
    asha, ravi = UserFactory(username="asha"), UserFactory(username="ravi")
    UserFactory(username="omar")  # not chosen: receives nothing
    manager = ManagerFactory(username="meera")
    path = tmp_path / "diwali-campaign.csv"
    path.write_bytes(csv_bytes([
        ["Customer", "Mobile number", "Reg no", "Service type"],
        ["Kabir Shah", "98290 12345", "RJ14CD1234", "Service"],
        ["Meera Nair", "9829012346", "", "Repair"],
        ["Omar Ali", "9829012347", "", ""],
        ["Priya Rao", "9829012348", "", ""],
    ]))
    login(manager)
    page.goto(f"{live_server.url}/leads/import/")
    page.get_by_label("CSV or Excel file").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="Preview of diwali-campaign.csv")).to_be_visible()
    expect(page.locator(".import-counts")).to_contain_text("Valid: 4")
    page.get_by_role("button", name="Import 4 valid rows").click()
    expect(page.locator(".import-counts")).to_contain_text("waiting in the queue: 4")

    page.get_by_role("link", name="Assign the waiting leads").click()
    expect(page.locator(".queue-counts")).to_contain_text("4 waiting matching the filters")
    page.get_by_label("Which entries").select_option("all")
    page.get_by_label("Rule").select_option("round-robin")
    page.get_by_label("asha").check()
    page.get_by_label("ravi").check()
    page.get_by_role("button", name="Assign").click()
    expect(page.locator("#messages")).to_contain_text("Assigned 4 leads")
    expect(page.get_by_text("Nothing is waiting that matches the filters.")).to_be_visible()

    seen = {}
    for telecaller in (asha, ravi):
        logout()
        login(telecaller)
        expect(page.get_by_role("link", name="New for you (2)")).to_be_visible()
        page.get_by_role("link", name="New for you (2)").click()
        rows = page.locator("table.leads tbody tr")
        expect(rows).to_have_count(2)
        seen[telecaller.username] = set(rows.locator("a").filter(
            has_text=re.compile(r"^(Kabir Shah|Meera Nair|Omar Ali|Priya Rao)$")).all_inner_texts())
    assert seen["asha"] | seen["ravi"] == {"Kabir Shah", "Meera Nair", "Omar Ali", "Priya Rao"}
    assert not seen["asha"] & seen["ravi"]
    assert js_errors == []
