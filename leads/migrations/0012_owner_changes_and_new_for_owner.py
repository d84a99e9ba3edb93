"""The owner-change history (OwnerChange) and the lead's "new for its owner"
flag with its partial index, built CONCURRENTLY on PostgreSQL (the lead
table may hold millions of rows); the column has a database default, so
adding it rewrites no row."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from leads.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ('leads', '0011_lead_source_car_model_service_type'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='OwnerChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('changed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('rule', models.CharField(choices=[('manual', 'Manual'), ('round-robin', 'Round-robin'), ('least-loaded', 'Least-loaded'), ('hand-over', 'Hand-over'), ('import', 'Import')], max_length=20)),
            ],
        ),
        migrations.AddField(
            model_name='lead',
            name='new_for_owner',
            field=models.BooleanField(db_default=False, default=False),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name='lead',
            index=models.Index(condition=models.Q(('new_for_owner', True)), fields=['creator', 'created_at'], name='lead_new_for_owner_idx'),
        ),
        migrations.AddField(
            model_name='ownerchange',
            name='changed_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='ownerchange',
            name='from_user',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='ownerchange',
            name='lead',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='owner_changes', to='leads.lead'),
        ),
        migrations.AddField(
            model_name='ownerchange',
            name='to_user',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='ownerchange',
            index=models.Index(fields=['lead', 'changed_at'], name='owner_change_lead_idx'),
        ),
        migrations.AddIndex(
            model_name='ownerchange',
            index=models.Index(fields=['to_user', 'changed_at'], name='owner_change_to_user_idx'),
        ),
        migrations.AddConstraint(
            model_name='ownerchange',
            constraint=models.CheckConstraint(condition=models.Q(('rule__in', ['manual', 'round-robin', 'least-loaded', 'hand-over', 'import'])), name='owner_change_rule_valid'),
        ),
    ]
