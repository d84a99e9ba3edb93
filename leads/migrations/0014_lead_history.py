"""The lead change history: the stamp columns on leads_lead, the LeadChange
table, and the triggers that write it (see leads/history.py, docs/history.md).
No backfill: history starts when this migration runs."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Frozen here rather than imported: a later change to the triggers is a new
# migration (and, for SQLite, an update of leads/db_upkeep.py).

# On PostgreSQL one statement-level trigger per event inserts every change of
# the statement in one INSERT ... SELECT over its transition tables: a bulk
# update of a million leads is one more statement, not a million.
POSTGRESQL_INSTALL = [
    r"""
    CREATE FUNCTION leads_lead_history() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO leads_leadchange
                (lead_id, kind, field, old_value, new_value, actor_id, via, changed_at)
            SELECT n.id, 'created', '', '', n.customer_name || ' (' || n.mobile || ')',
                   CASE WHEN n.history_token IS NOT NULL THEN n.history_actor_id END,
                   CASE WHEN n.history_token IS NOT NULL THEN coalesce(n.history_via, 'script')
                        ELSE 'outside' END,
                   CASE WHEN n.history_token IS NOT NULL THEN n.modified_at
                        ELSE clock_timestamp() END
            FROM new_leads n;
        ELSIF TG_OP = 'UPDATE' THEN
            -- A product write changes the token; one that keeps it came from
            -- outside the product.
            INSERT INTO leads_leadchange
                (lead_id, kind, field, old_value, new_value, actor_id, via, changed_at)
            SELECT n.id, c.kind, c.field, c.old_value, c.new_value,
                   CASE WHEN n.history_token IS DISTINCT FROM o.history_token
                        THEN n.history_actor_id END,
                   CASE WHEN n.history_token IS DISTINCT FROM o.history_token
                        THEN coalesce(n.history_via, 'script') ELSE 'outside' END,
                   CASE WHEN n.history_token IS DISTINCT FROM o.history_token
                        THEN n.modified_at ELSE clock_timestamp() END
            FROM new_leads n
            JOIN old_leads o ON o.id = n.id
            CROSS JOIN LATERAL (
                SELECT left(n.remarks, length(o.remarks)) = o.remarks AS appended
            ) AS r
            CROSS JOIN LATERAL (VALUES
                ('changed', 'customer_name', o.customer_name, n.customer_name),
                ('changed', 'mobile', o.mobile, n.mobile),
                ('changed', 'car_registration', o.car_registration, n.car_registration),
                ('changed', 'status', o.status, n.status),
                (CASE WHEN r.appended THEN 'remark_added' ELSE 'changed' END, 'remarks',
                 CASE WHEN r.appended THEN '' ELSE o.remarks END,
                 CASE WHEN r.appended
                      THEN btrim(substr(n.remarks, length(o.remarks) + 1), E' \r\n')
                      ELSE n.remarks END)
            ) AS c (kind, field, old_value, new_value)
            WHERE c.old_value IS DISTINCT FROM c.new_value;
        ELSIF TG_OP = 'DELETE' THEN
            -- Product deletes stamp the row with a negative token first.
            INSERT INTO leads_leadchange
                (lead_id, kind, field, old_value, new_value, actor_id, via, changed_at)
            SELECT o.id, 'deleted', '', o.customer_name || ' (' || o.mobile || ')', '',
                   CASE WHEN o.history_token < 0 THEN o.history_actor_id END,
                   CASE WHEN o.history_token < 0 THEN coalesce(o.history_via, 'script')
                        ELSE 'outside' END,
                   CASE WHEN o.history_token < 0 THEN o.modified_at
                        ELSE clock_timestamp() END
            FROM old_leads o;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER leads_lead_history_insert AFTER INSERT ON leads_lead
    REFERENCING NEW TABLE AS new_leads
    FOR EACH STATEMENT EXECUTE FUNCTION leads_lead_history()
    """,
    """
    CREATE TRIGGER leads_lead_history_update AFTER UPDATE ON leads_lead
    REFERENCING OLD TABLE AS old_leads NEW TABLE AS new_leads
    FOR EACH STATEMENT EXECUTE FUNCTION leads_lead_history()
    """,
    """
    CREATE TRIGGER leads_lead_history_delete AFTER DELETE ON leads_lead
    REFERENCING OLD TABLE AS old_leads
    FOR EACH STATEMENT EXECUTE FUNCTION leads_lead_history()
    """,
]

POSTGRESQL_UNINSTALL = [
    "DROP TRIGGER IF EXISTS leads_lead_history_insert ON leads_lead",
    "DROP TRIGGER IF EXISTS leads_lead_history_update ON leads_lead",
    "DROP TRIGGER IF EXISTS leads_lead_history_delete ON leads_lead",
    "DROP FUNCTION IF EXISTS leads_lead_history()",
]

# SQLite has row-level triggers only (still one statement from the product's
# side). leads/db_upkeep.py reinstalls them after a table rebuild.
SQLITE_INSTALL = [
    """
    CREATE TRIGGER leads_lead_history_insert AFTER INSERT ON leads_lead
    BEGIN
        INSERT INTO leads_leadchange
            (lead_id, kind, field, old_value, new_value, actor_id, via, changed_at)
        VALUES (NEW.id, 'created', '', '', NEW.customer_name || ' (' || NEW.mobile || ')',
                CASE WHEN NEW.history_token IS NOT NULL THEN NEW.history_actor_id END,
                CASE WHEN NEW.history_token IS NOT NULL THEN coalesce(NEW.history_via, 'script')
                     ELSE 'outside' END,
                CASE WHEN NEW.history_token IS NOT NULL THEN NEW.modified_at
                     ELSE strftime('%Y-%m-%d %H:%M:%f', 'now') END);
    END
    """,
    """
    CREATE TRIGGER leads_lead_history_update
    AFTER UPDATE OF customer_name, mobile, car_registration, status, remarks ON leads_lead
    BEGIN
        INSERT INTO leads_leadchange
            (lead_id, kind, field, old_value, new_value, actor_id, via, changed_at)
        SELECT NEW.id, c.kind, c.field, c.old_value, c.new_value,
               CASE WHEN NEW.history_token IS NOT OLD.history_token THEN NEW.history_actor_id END,
               CASE WHEN NEW.history_token IS NOT OLD.history_token
                    THEN coalesce(NEW.history_via, 'script') ELSE 'outside' END,
               CASE WHEN NEW.history_token IS NOT OLD.history_token THEN NEW.modified_at
                    ELSE strftime('%Y-%m-%d %H:%M:%f', 'now') END
        FROM (
            SELECT 'changed' AS kind, 'customer_name' AS field,
                   OLD.customer_name AS old_value, NEW.customer_name AS new_value
            UNION ALL SELECT 'changed', 'mobile', OLD.mobile, NEW.mobile
            UNION ALL SELECT 'changed', 'car_registration', OLD.car_registration,
                             NEW.car_registration
            UNION ALL SELECT 'changed', 'status', OLD.status, NEW.status
            UNION ALL SELECT
                CASE WHEN substr(NEW.remarks, 1, length(OLD.remarks)) = OLD.remarks
                     THEN 'remark_added' ELSE 'changed' END,
                'remarks',
                CASE WHEN substr(NEW.remarks, 1, length(OLD.remarks)) = OLD.remarks
                     THEN '' ELSE OLD.remarks END,
                CASE WHEN substr(NEW.remarks, 1, length(OLD.remarks)) = OLD.remarks
                     THEN trim(substr(NEW.remarks, length(OLD.remarks) + 1),
                               ' ' || char(13) || char(10))
                     ELSE NEW.remarks END
        ) AS c
        WHERE c.old_value IS NOT c.new_value;
    END
    """,
    """
    CREATE TRIGGER leads_lead_history_delete AFTER DELETE ON leads_lead
    BEGIN
        INSERT INTO leads_leadchange
            (lead_id, kind, field, old_value, new_value, actor_id, via, changed_at)
        VALUES (OLD.id, 'deleted', '', OLD.customer_name || ' (' || OLD.mobile || ')', '',
                CASE WHEN OLD.history_token < 0 THEN OLD.history_actor_id END,
                CASE WHEN OLD.history_token < 0 THEN coalesce(OLD.history_via, 'script')
                     ELSE 'outside' END,
                CASE WHEN OLD.history_token < 0 THEN OLD.modified_at
                     ELSE strftime('%Y-%m-%d %H:%M:%f', 'now') END);
    END
    """,
]

SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS leads_lead_history_insert",
    "DROP TRIGGER IF EXISTS leads_lead_history_update",
    "DROP TRIGGER IF EXISTS leads_lead_history_delete",
]


def _statements(schema_editor, *, postgresql, sqlite):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        return postgresql
    if vendor == "sqlite":
        return sqlite
    raise NotImplementedError(f"No lead history triggers for the {vendor} database backend.")


def install_triggers(apps, schema_editor):
    for sql in _statements(schema_editor, postgresql=POSTGRESQL_INSTALL, sqlite=SQLITE_INSTALL):
        schema_editor.execute(sql)


def uninstall_triggers(apps, schema_editor):
    for sql in _statements(schema_editor, postgresql=POSTGRESQL_UNINSTALL, sqlite=SQLITE_UNINSTALL):
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ("leads", "0013_lead_day_counters"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="history_actor",
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name="lead",
            name="history_token",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="lead",
            name="history_via",
            field=models.CharField(blank=True, editable=False, max_length=10, null=True),
        ),
        migrations.CreateModel(
            name="LeadChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("created", "Lead created"), ("changed", "Field changed"), ("remark_added", "Remark added"), ("deleted", "Lead deleted")], max_length=20)),
                ("field", models.CharField(blank=True, max_length=30)),
                ("old_value", models.TextField(blank=True)),
                ("new_value", models.TextField(blank=True)),
                ("via", models.CharField(max_length=10)),
                ("changed_at", models.DateTimeField()),
                ("actor", models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to=settings.AUTH_USER_MODEL)),
                ("lead", models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name="changes", to="leads.lead")),
            ],
            options={
                "indexes": [models.Index(fields=["lead", "changed_at", "id"], name="leadchange_lead_time_idx")],
            },
        ),
        migrations.RunPython(install_triggers, uninstall_triggers),
    ]
