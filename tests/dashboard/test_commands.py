import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.dashboard.conftest import DAY

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["team", "asha"])
def test_explain_dashboard_prints_a_plan_per_statement(crafted, capsys, who):
    args = ["--date", DAY.isoformat()]
    if who == "asha":
        args += ["--user", str(crafted.asha.pk)]
    call_command("explain_dashboard", *args)
    out = capsys.readouterr().out
    assert out.startswith(f"Dashboard for {DAY.isoformat()}, ")
    statements = int(out.split(": ", 1)[1].split(" statements", 1)[0])
    # counters, day counts, due page, users + snapshots, trend (+ the team's user list)
    assert statements == (7 if who == "team" else 6)
    # The dashboard's statements, then the overdue list's first page.
    assert out.count("\n-- ") == statements + 1
    assert out.count("(the overdue list, first page) SELECT") == 1
    if connection.vendor == "postgresql":
        # On a table this small PostgreSQL rightly prefers sequential scans.
        assert out.count("Execution Time") == statements + 1
    else:
        assert "leaddaydelta_" in out
        overdue_plan = out.split("(the overdue list, first page)", 1)[1]
        index = "lead_followup_idx" if who == "team" else "lead_not_closed_followup_idx"
        assert index in overdue_plan


@pytest.mark.parametrize(("args", "message"), [
    (["--date", "2024-02-30"], "YYYY-MM-DD"),
    (["--date", "20240510"], "YYYY-MM-DD"),
    (["--date", "1999-12-31"], "between 2000-01-01"),
    (["--user", "999999"], "No user with id 999999"),
])
def test_explain_dashboard_rejects_bad_input(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("explain_dashboard", *args)
