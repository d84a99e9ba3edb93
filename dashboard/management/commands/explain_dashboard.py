from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard import selectors
from leads.management.options import date_option
from leads.models import Lead

# As /leads/?due=overdue pages: one row more than a page, no COUNT.
OVERDUE_PAGE_ROWS = 51


class Command(BaseCommand):
    help = (
        "Print the query plan of every statement the dashboard runs for a day and scope: "
        "EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite. "
        "It computes from the database, never from the cache. The last plan is the first "
        "page of the overdue list (/leads/?due=overdue)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today in TIME_ZONE)")
        parser.add_argument("--user", type=int, help="a user id (default: the whole team)")

    def handle(self, *args, date, user, **options):
        day = date_option(date)
        if user is not None and not get_user_model().objects.filter(pk=user).exists():
            raise CommandError(f"No user with id {user}.")
        with CaptureQueriesContext(connection) as captured, selectors.shared_queries():
            selectors.dashboard_due_page(day=day, user_id=user, page=1)
            selectors.dashboard_day_metrics(day=day, user_id=user)
            selectors.dashboard_team_performance(day=day, user_id=user)
            selectors.dashboard_trend(day=day, user_id=user)
            if user is None:
                selectors.active_users()  # the manager's user menu
        with CaptureQueriesContext(connection) as overdue_page:
            leads = Lead.objects.all() if user is None else Lead.objects.filter(creator_id=user)
            list(leads.due_queue("overdue", day=day).select_related("creator")
                 [:OVERDUE_PAGE_ROWS])
        statements = [q["sql"] for q in captured.captured_queries]
        scope = "the whole team" if user is None else f"user {user}"
        self.stdout.write(
            f"Dashboard for {day.isoformat()}, {scope}: {len(statements)} statements\n"
        )
        statements += [q["sql"] for q in overdue_page.captured_queries]
        prefix = ("EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql"
                  else "EXPLAIN QUERY PLAN ")
        with connection.cursor() as cursor:
            for number, sql in enumerate(statements, 1):
                label = "the overdue list, first page" if number > len(captured) else "dashboard"
                self.stdout.write(f"-- {number}. ({label}) {sql}")
                cursor.execute(prefix + sql)
                for row in cursor.fetchall():
                    self.stdout.write("   " + " | ".join(str(cell) for cell in row))
                self.stdout.write("")
