"""axe-core (npm axe-core, package.json) on the pages people use, for both
roles at desktop and phone widths: any serious or critical violation fails.

axe is injected as a script, which the Content-Security-Policy forbids, so
these pages are loaded in a context that bypasses it (the CSP tests check the
policy itself). Without node_modules/axe-core (`npm ci`) the tests skip,
unless CI is set: then they fail, as the browser tests do without Chromium.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.dashboard.conftest import local
from tests.factories import LeadFactory, ManagerFactory, UserFactory
from whatsapp.models import WhatsAppTemplate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
FAILING_IMPACTS = ("serious", "critical")
RUN_AXE = "async () => (await axe.run(document)).violations"


@pytest.fixture(scope="session")
def axe_source():
    if not AXE.exists():
        message = f"{AXE} is missing: run `npm ci` in the project root"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def people():
    today = timezone.localdate()
    asha = UserFactory(username="asha")
    UserFactory(username="ravi")
    lead = LeadFactory(creator=asha, customer_name="Meera Nair", followup_date=local(today, 9),
                       created_at=local(today - timedelta(days=3)))
    LeadFactory(creator=asha, customer_name="Kabir Shah", followup_date=local(today, 18))
    WhatsAppTemplate.objects.create(name="Booking", text="Hi {customer_name}")
    return {"telecaller": asha, "manager": ManagerFactory(username="meera")}, lead


def _serious(violations):
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"])
        for v in violations if v["impact"] in FAILING_IMPACTS
    ]


@pytest.mark.parametrize("width", VIEWPORTS)
@pytest.mark.parametrize("role", ["telecaller", "manager"])
def test_pages_have_no_serious_accessibility_violations(
    browser, live_server, login, people, axe_source, role, width
):
    users, lead = people
    context = browser.new_context(bypass_csp=True, viewport=VIEWPORTS[width])
    page = context.new_page()
    try:
        login(users[role], on=page)
        found = {}
        paths = ["/dashboard/", "/leads/", "/leads/new/", f"/leads/{lead.pk}/edit/",
                 f"/leads/{lead.pk}/", f"/leads/{lead.pk}/correct/",
                 f"/leads/{lead.pk}/whatsapp/"]
        if role == "manager":
            paths += ["/leads/import/", "/leads/unassigned/", "/leads/hand-over/",
                      f"/leads/reschedule/?lead={lead.pk}"]
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            page.add_script_tag(content=axe_source)
            found[path] = _serious(page.evaluate(RUN_AXE))
    finally:
        context.close()
    assert found == {path: [] for path in found}
