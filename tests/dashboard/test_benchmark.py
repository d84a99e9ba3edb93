import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from dashboard import selectors
from dashboard.benchmark import baseline_document, cold_request_peak_kib, measure
from tests.dashboard.conftest import DAY

pytestmark = pytest.mark.django_db


def product_document(*, day, user):
    user_id = user and user.pk
    return selectors.dashboard_document(
        day=day,
        user=user and {"id": user.pk, "username": user.username},
        day_metrics=selectors.dashboard_day_metrics(day=day, user_id=user_id),
        team_performance=selectors.dashboard_team_performance(day=day, user_id=user_id),
        due=selectors.dashboard_due_page(day=day, user_id=user_id, page=1),
    )


@pytest.mark.parametrize("who", ["team", "asha", "ravi", "idle"])
def test_baseline_computes_the_same_document_as_the_product(crafted, who):
    user = None if who == "team" else getattr(crafted, who)
    baseline = baseline_document(day=DAY, user=user)
    assert baseline == product_document(day=DAY, user=user)
    assert baseline["totals"]["leads"] == {"team": 9, "asha": 5, "ravi": 3, "idle": 0}[who]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite limit")
def test_bench_dashboard_refuses_sqlite_above_100000_leads():
    with pytest.raises(CommandError, match="limited to 100,000 leads"):
        call_command("bench_dashboard", "--leads", "100001")


def test_measure_reads_the_total_a_telecaller_is_given():
    # Non-staff responses carry `total` alone; the benchmark times every role by it.
    class Response:
        headers = {"Server-Timing": "total;dur=12.5"}

    assert measure(Response, repeat=2)["median_ms"] == 12.5


def test_measure_counts_statements_in_one_more_run_that_is_not_timed():
    captured, resets = [], []

    def request():
        # Counting statements wraps the cursor (CaptureQueriesContext).
        captured.append(connection.force_debug_cursor)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.execute("SELECT 2")

    result = measure(request, repeat=3, before=lambda: resets.append(1))
    assert (result["runs"], result["statements"]) == (3, 2)
    assert captured == [False, False, False, True] and len(resets) == 4


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite limit")
def test_bench_dashboard_takes_several_sizes_and_checks_the_largest():
    with pytest.raises(CommandError, match="database for 100,001 leads"):
        call_command("bench_dashboard", "--leads", "1000,100001", "--users", "25,500")


@pytest.mark.parametrize("value", ["1000,x", "1000,0", ""])
def test_bench_dashboard_refuses_sizes_that_are_not_positive_numbers(value):
    with pytest.raises(CommandError, match="argument --leads"):
        call_command("bench_dashboard", "--leads", value)


def test_cold_request_peak_is_what_the_request_allocates():
    resets = []
    peak = cold_request_peak_kib(lambda: bytearray(2 * 1024 * 1024),
                                 cold_reset=lambda: resets.append(1))
    assert resets == [1]
    assert 2048 <= peak < 2100
