"""The fault script's arithmetic (bench/fault_test.py): percentiles, windows,
targets. The script itself is a benchmark, run by hand (`make fault-test`)."""

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))  # the scripts import each other as top-level modules

import fault_test  # noqa: E402


def test_percentile_nearest_rank():
    values = list(range(1, 101))
    assert fault_test.percentile(values, 50) == 50
    assert fault_test.percentile(values, 95) == 95
    assert fault_test.percentile(values, 100) == 100
    assert fault_test.percentile([7], 99) == 7
    assert fault_test.percentile([], 50) is None


def test_split_windows_by_start_and_in_flight_at_the_fault():
    request = fault_test.Request
    records = [
        request(0.5, 0.6, "read", None, "GET /early"),      # before all windows
        request(1.0, 1.1, "read", None, "GET /a"),
        request(1.9, 2.4, "read", None, "GET /b"),          # running when the fault began
        request(2.0, 3.5, "write", None, "POST /c"),        # ends after the fault: still "during"
        request(3.0, 3.1, "read", None, "GET /d"),          # a window's end is exclusive
        request(4.0, 4.1, "read", None, "GET /late"),       # after all windows
    ]
    windows = fault_test.split_windows(records, 2.0, 3.0, 1.0)
    assert {name: (start, end, [r.path for r in inside])
            for name, (start, end, inside) in windows.items()} == {
        "before": (1.0, 2.0, ["GET /a"]),
        "during": (2.0, 3.0, ["GET /b", "POST /c"]),
        "after": (3.0, 4.0, ["GET /d"]),
    }


def test_window_stats_figures():
    request = fault_test.Request
    inside = [
        request(1.0, 1.1, "read", None, "GET /b"),
        request(1.5, 4.5, "write", None, "POST /c"),
        request(2.0, 2.2, "read", "500 GET /d -> None", "GET /d"),
    ]
    assert fault_test.window_stats(1.0, 3.0, inside) == {
        "seconds": 2.0,
        "requests": 3,
        "errors": 1,
        "writes": 1,
        "requests_per_second": 1.0,
        "p50_ms": 200.0,
        "p95_ms": 3000.0,
        "p99_ms": 3000.0,
        "max_ms": 3000.0,
        "write_p50_ms": 3000.0,
        "slowest": ["3000 ms POST /c at +0.5 s", "200 ms GET /d at +1.0 s",
                    "100 ms GET /b at +0.0 s"],
    }


def test_window_stats_empty_window():
    stats = fault_test.window_stats(0.0, 10.0, [])
    assert (stats["requests"], stats["requests_per_second"], stats["p95_ms"]) == (0, 0.0, None)


def _fault(*, errors=0, before_rps=100.0, during_rps=60.0, during_p95=400.0, stale=()):
    return {
        "errors": errors,
        "stale": list(stale),
        "windows": {"before": {"requests_per_second": before_rps, "p95_ms": 100.0},
                    "during": {"requests_per_second": during_rps, "p95_ms": during_p95}},
    }


def test_judge_all_targets_met():
    assert fault_test.judge(_fault()) == []


def test_judge_names_each_missed_target():
    missed = fault_test.judge(_fault(errors=2, during_rps=49.9, during_p95=1000.0,
                                     stale=["date=2026-11-30"]))
    assert missed == ["errors", "p95", "throughput", "stale"]


def test_judge_no_answer_during_the_fault_misses_latency():
    assert fault_test.judge(_fault(during_rps=0.0, during_p95=None)) == ["p95", "throughput"]


def test_parse_args_faults_in_the_given_order():
    assert fault_test.parse_args(["--faults", "pause,kill"]).faults == ["pause", "kill"]
