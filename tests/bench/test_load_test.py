"""`make load-test` without wrk: one clear line, before anything is installed;
and the load test's leak check."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import load_test

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_make_load_test_without_wrk_says_how_to_install_it_in_one_line(tmp_path):
    venv = tmp_path / "venv"  # must never be created
    result = subprocess.run(
        [MAKE, "load-test", f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True,
        env={"PATH": str(tmp_path)},  # no wrk (and no python) on this PATH
        timeout=30,
    )
    assert result.returncode != 0
    (line,) = result.stderr.strip().splitlines()
    assert "make load-test: wrk is not installed: apt-get install -y wrk" in line
    assert result.stdout == ""
    assert not venv.exists()


@pytest.mark.skipif(MAKE is None or shutil.which("wrk") is None, reason="needs make and wrk")
def test_make_load_test_with_wrk_goes_on(tmp_path):
    result = subprocess.run([MAKE, "-n", "load-test", f"VENV={tmp_path}/venv"], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "bench/load_test.py" in result.stdout


def test_worker_rss_reads_the_children_of_a_process():
    """The leak check reads the workers (children of gunicorn's master) from
    /proc: here, a child of this test process."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        sizes = load_test.worker_rss_kib(os.getpid())
        assert child.pid in sizes and sizes[child.pid] > 1000  # a Python process: > 1 MB
        assert os.getpid() not in sizes
    finally:
        child.kill()
        child.wait()


def test_rss_growth_per_thousand_requests_and_replaced_workers():
    growth = load_test.rss_growth({1: 50_000, 2: 60_000}, {1: 51_000, 3: 40_000}, 4_000)
    assert growth["growth_kib"] == 1_000  # worker 2 was replaced: not compared
    assert growth["growth_kib_per_1000_requests"] == 250.0
    assert growth["workers_replaced"] == [2]
    assert load_test.rss_growth({}, {}, 0)["growth_kib_per_1000_requests"] is None


def test_response_hit_rate_counts_dashboard_requests_not_lookups():
    views = {"team": {"hit": 548, "rebuilt": 258, "miss": 514, "lead_table_share": 0.3894},
             "user": {"hit": 6983, "rebuilt": 246, "miss": 582, "lead_table_share": 0.0745}}
    # 7,531 whole hits of 9,131 requests; the lookups' rate of that run was 0.8776.
    assert load_test.response_hit_rate(views) == 0.8248
    assert load_test.response_hit_rate({}) is None
