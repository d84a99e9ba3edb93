"""`make load-test` without wrk: one clear line, before anything is installed."""

import shutil
import subprocess
from pathlib import Path

import pytest

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
