"""Browser tests: Playwright driving Debian's Chromium against the live server.

Run with the rest of the suite (`make test`). Where /usr/bin/chromium is
missing they skip, unless CI is set: then they fail, so CI never passes
without them. `pytest -m "not browser"` leaves them out on purpose.
"""

import os
import re
from pathlib import Path

import pytest

# Playwright's sync API keeps an event loop in this thread from the first
# browser test to the end of the session, and Django refuses ORM calls from a
# thread with a running loop. The tests only use the ORM to arrange data
# (the live server answers from its own thread), and the project has no
# async code whose safety this check would protect.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


def _in_ci():
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists() or _in_ci():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed (apt-get install chromium)")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Each phase's report on the item (rep_setup, rep_call, rep_teardown),
    # for the screenshot fixture below.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; CI installs Debian's chromium package (.ci/run).")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture(autouse=True)
def _fail_fast(page):
    # Playwright waits 30 s for a missing element by default.
    page.set_default_timeout(10_000)


@pytest.fixture
def js_errors(page):
    """Console errors and uncaught exceptions of the page, as text; a test
    that ends with any fails."""
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    yield errors
    assert errors == [], "JavaScript errors on the page"


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request, page, js_errors):
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        OUTPUT.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)


@pytest.fixture
def login(page, live_server):
    """login(user) logs `page` (or another page) in through the login form
    (the factories' password) and lands on the dashboard."""

    def log_in(user, *, on=None):
        on = on or page
        on.goto(f"{live_server.url}/accounts/login/")
        on.get_by_label("Username").fill(user.username)
        on.get_by_label("Password").fill("password")
        on.get_by_role("button", name="Log in").click()
        on.wait_for_url(f"{live_server.url}/dashboard/")

    return log_in


@pytest.fixture
def logout(page, live_server):
    def log_out():
        page.get_by_role("button", name=re.compile("^Log out")).click()
        page.wait_for_url(re.compile("/accounts/login/"))

    return log_out
