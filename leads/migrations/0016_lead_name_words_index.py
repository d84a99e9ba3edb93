"""The index of the search by name (leads/name_search.py): a GIN index on the
words of the customer's name, built CONCURRENTLY on PostgreSQL so a live lead
table keeps taking writes. An expression index: PostgreSQL maintains it on
every write path (ORM, bulk, COPY). Nothing on SQLite, which scans."""

from django.db import migrations

INDEX = "lead_name_words_idx"
# Must stay the expression leads.name_search.NAME_WORDS_VECTOR_SQL writes, or
# the planner cannot use the index (tests/leads/test_name_search.py checks).
CREATE = (
    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON leads_lead USING gin "
    "((to_tsvector('simple'::regconfig, "
    "regexp_replace(customer_name, '[^[:alnum:]]+', ' ', 'g'))))"
)
DROP = f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    # CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ('leads', '0015_managers_view_lead_history'),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
    ]
