"""The team table's rows (a manager's dashboard), as escaped strings.

Fifty rows of a dozen values through Django's template engine cost a cold
page about 4 ms (2.2 ms for 25); built here, well under one. Like the due
cards (dashboard/due_cards.py), every value goes through html.escape. The
header row stays in templates/dashboard/includes/body.html: keep the cells
below in its order.
"""

from html import escape


def _pct(value):
    # The selectors round percentages to one decimal (half up) already.
    return f"{float(value):.1f}%"


def _number(value):
    return f'<td class="num">{escape(str(value))}</td>'


def render_team_rows(rows):
    """The <tr> of each team row (dashboard_team_performance's dicts)."""
    html = []
    for row in rows:
        calls = row["calls"]
        star = ("" if row["from_snapshot"] else
                ' <span class="muted" title="No snapshot: initial is pending now plus the '
                'work log">*</span>')
        html.append(
            f'<tr data-user="{int(row["user_id"])}"><td>{escape(row["username"])}{star}</td>'
            + "".join(_number(row[key]) for key in ("initial", "worked", "pending"))
            + f'<td class="num">{_pct(row["completion_pct"])}</td>'
            + "".join(_number(row[key]) for key in ("new_leads", "confirmed", "completed",
                                                     "overdue", "unscheduled"))
            + _number(calls["attempts"])
            + f'<td class="num">{escape(str(calls["connected"]))} '
              f'({_pct(calls["connect_pct"])})</td></tr>'
        )
    return "\n".join(html)
