"""Indexes for the definitions of 0007: the leads still to be followed up per
creator (a partial index: pending, overdue and unscheduled are index-only
counts), and the work log per day with its kind (the trend counts some
kinds only). Built and dropped CONCURRENTLY on PostgreSQL."""

from django.db import migrations, models

from leads.migration_operations import (
    AddIndexConcurrentlyOnPostgres,
    RemoveIndexConcurrentlyOnPostgres,
)


class Migration(migrations.Migration):
    # CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ('leads', '0008_lost_status_and_work_kinds'),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name='lead',
            index=models.Index(condition=models.Q(('status__in', ('completed', 'lost')), _negated=True), fields=['creator', 'followup_date'], name='lead_not_closed_followup_idx'),
        ),
        # The new work-log indexes before the old ones go: the trend always
        # has one to use.
        AddIndexConcurrentlyOnPostgres(
            model_name='workedlead',
            index=models.Index(fields=['user', 'work_date', 'kind'], name='worked_user_date_kind_idx'),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name='workedlead',
            index=models.Index(fields=['work_date', 'kind'], name='worked_date_kind_idx'),
        ),
        RemoveIndexConcurrentlyOnPostgres(
            model_name='workedlead',
            name='worked_user_date_idx',
        ),
        RemoveIndexConcurrentlyOnPostgres(
            model_name='workedlead',
            name='worked_date_idx',
        ),
    ]
