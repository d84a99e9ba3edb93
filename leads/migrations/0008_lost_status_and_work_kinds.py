"""Issue 14's definitions in the schema: the status `lost` (a closed lead, like
`completed`) and the kind of each work-log row (`moved`, `closed`,
`rescheduled`; every existing row is a move)."""

from importlib import import_module

from django.db import migrations, models

from leads.migration_operations import SetCheckConstraint


def reinstall_sqlite_counter_triggers(apps, schema_editor):
    # On SQLite the new CHECK rebuilt leads_lead, dropping its counter
    # triggers (the rows were copied without them, so the counters are still
    # right). Put the unchanged triggers of 0004 back now rather than leave
    # the post-migrate upkeep to warn about it on every fresh install.
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'leads_lead'"
        )
        present = {name for (name,) in cursor.fetchall()}
    for sql in import_module("leads.migrations.0004_leadcountdelta").SQLITE_INSTALL:
        name = sql.split("CREATE TRIGGER", 1)[1].split()[0]
        if name not in present:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    # SetCheckConstraint validates the existing rows in a transaction of its
    # own on PostgreSQL, while the table keeps taking writes.
    atomic = False

    dependencies = [
        ('leads', '0007_remarks_length'),
    ]

    operations = [
        migrations.AlterField(
            model_name='lead',
            name='status',
            field=models.CharField(choices=[('did_not_pick_up', 'Did Not Pick Up'), ('needs_followup', 'Needs Followup'), ('confirmed', 'Confirmed'), ('open', 'Open'), ('completed', 'Completed'), ('feedback', 'Feedback'), ('lost', 'Lost')], default='needs_followup', max_length=20),
        ),
        migrations.RunPython(
            migrations.RunPython.noop, reinstall_sqlite_counter_triggers, elidable=False
        ),
        SetCheckConstraint(
            model_name='lead',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['did_not_pick_up', 'needs_followup', 'confirmed', 'open', 'completed', 'feedback', 'lost'])), name='lead_status_valid'),
        ),
        # After the rebuild in either direction.
        migrations.RunPython(
            reinstall_sqlite_counter_triggers, migrations.RunPython.noop, elidable=False
        ),
        # The database default fills the existing rows (instantly on
        # PostgreSQL) and keeps loaders that do not know the column working.
        migrations.AddField(
            model_name='workedlead',
            name='kind',
            field=models.CharField(choices=[('moved', 'Follow-up moved'), ('closed', 'Lead closed'), ('rescheduled', 'Rescheduled by a manager')], db_default='moved', default='moved', max_length=20),
        ),
        SetCheckConstraint(
            model_name='workedlead',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['moved', 'closed', 'rescheduled'])), name='worked_kind_valid'),
        ),
    ]
