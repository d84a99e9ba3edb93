"""The team table's rows, built as escaped strings (dashboard/team_table.py)."""

from dashboard.team_table import render_team_rows


def _row(**overrides):
    return {"user_id": 7, "username": "asha", "from_snapshot": True, "initial": 12,
            "worked": 5, "pending": 7, "completion_pct": 41.7, "new_leads": 2,
            "confirmed": 30, "completed": 40, "overdue": 9, "unscheduled": 4,
            "calls": {"attempts": 8, "connected": 3, "connect_pct": 37.5}, **overrides}


def test_cells_in_the_header_order_with_one_decimal_percentages():
    html = render_team_rows([_row()])
    cells = html.split('<td class="num">')[1:]
    assert [cell.split("</td>")[0] for cell in cells] == [
        "12", "5", "7", "41.7%", "2", "30", "40", "9", "4", "8", "3 (37.5%)"]
    assert html.startswith('<tr data-user="7"><td>asha</td>')


def test_usernames_are_escaped_and_rows_without_snapshot_starred():
    html = render_team_rows([_row(username='<b>x</b>&"', from_snapshot=False),
                             _row(user_id=8, completion_pct=0.0)])
    assert "&lt;b&gt;x&lt;/b&gt;&amp;&quot;" in html and "<b>" not in html
    first, second = html.split("\n")
    assert 'title="No snapshot' in first and 'title="No snapshot' not in second
    assert '<td class="num">0.0%</td>' in second
