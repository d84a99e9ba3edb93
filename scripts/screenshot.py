"""Take the README's screenshots of the dashboard from demo data.

    .venv/bin/python scripts/screenshot.py [--out docs/dashboard.png]
        [--phone-out docs/dashboard-phone.png]

Seeds the demo data (`seed_demo`, which includes two weeks of recorded work
and start-of-day snapshots) into a temporary SQLite database, starts
`runserver --noreload` on a free loopback port, logs in as the demo manager
with Playwright driving Debian's Chromium (/usr/bin/chromium) and saves the
top of the dashboard at desk width; then logs in as telecaller01 on a 390 px
phone and saves the first screens of theirs. Nothing outside the temporary folder is touched but the
output file.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 1380}
# A 390 px phone; two screens tall, so the shot shows the first cards whole.
PHONE_VIEWPORT = {"width": 390, "height": 1688}


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed(database_url):
    """Demo users, leads and their recorded work (in this process)."""
    import django

    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", leads=3000, users=6, seed=7)


def _wait_for(url, process, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"runserver exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"runserver did not answer {url} within {seconds} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "dashboard.png"))
    parser.add_argument("--phone-out", default=str(ROOT / "docs" / "dashboard-phone.png"))
    args = parser.parse_args()
    out, phone_out = Path(args.out).resolve(), Path(args.phone_out).resolve()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")

    # Development settings (plain static files, no secure cookies), local
    # memory cache, and the demo database in a temporary folder.
    os.environ["DJANGO_DEBUG"] = "1"
    for name in ("REDIS_URL", "REDIS_SENTINELS", "REDIS_SENTINEL_MASTER"):
        os.environ.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="crm-screenshot-") as folder:
        database_url = f"sqlite:///{folder}/demo.sqlite3"
        _seed(database_url)

        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT, env={**os.environ, "DATABASE_URL": database_url},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(f"{base}/healthz", server)
            _shoot(base, out, phone_out)
        finally:
            server.terminate()
            server.wait(timeout=10)
    for path in (out, phone_out):
        print(f"Saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def _shoot(base, out, phone_out):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for username, password, viewport, path in (
            ("manager", "manager", VIEWPORT, out),
            ("telecaller01", "telecaller", PHONE_VIEWPORT, phone_out),
        ):
            page = browser.new_page(viewport=viewport)
            page.goto(f"{base}/accounts/login/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{base}/dashboard/")
            # The debug toolbar (DEBUG on, loopback client) is not part of the page.
            # (Removed, not styled away: the Content-Security-Policy refuses inline styles.)
            page.evaluate("() => document.getElementById('djDebugRoot')?.remove()")
            path.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(path))
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
