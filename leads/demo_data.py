"""Deterministic demo and benchmark data: users and realistic leads.

Used by ``seed_demo`` and by the dashboard benchmark, so both load the same
kind of data. The same seed on the same business day gives the same rows.
The work history (work log and start-of-day snapshots) is for the demo
only: the benchmark does not load it.
"""

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models import Count
from django.utils import timezone

from crm.raw_sql import copy_field, write_copy_lines
from leads import history
from leads.models import (
    CLOSED_STATUSES,
    FollowupSnapshot,
    Lead,
    LeadStatus,
    WorkedLead,
    WorkKind,
    day_bounds,
)
from leads.people import TELECALLERS_GROUP
from leads.signals import announce_leads_changed

FIRST_NAMES = (  # noqa: SIM905 (a word list reads better as one text)
    "Aarav Vivaan Aditya Vihaan Arjun Sai Reyansh Ayaan Krishna Ishaan Rohan Kabir Rahul "
    "Ananya Diya Aadhya Saanvi Pari Anika Navya Myra Sara Ira Meera Kavya Priya Neha Pooja "
    "Suresh Ramesh Mahesh Vikram Sunil Anil Deepak Manoj Rajesh Sanjay Amit Nikhil Harish "
    "Lakshmi Sunita Geeta Rekha Anjali Shreya Nisha Ritu Swati Farhan Imran Salman Zoya "
    "Gurpreet Harpreet Jaspreet Manpreet Baljit Thomas Joseph Mary Anthony"
).split()
LAST_NAMES = (  # noqa: SIM905 (as above)
    "Sharma Verma Gupta Singh Kumar Patel Shah Mehta Joshi Agarwal Jain Reddy Rao Naidu "
    "Iyer Iyengar Nair Menon Pillai Das Bose Ghosh Banerjee Chatterjee Mukherjee Khan "
    "Qureshi Sheikh Ansari Gill Sandhu Dhillon Bhatia Malhotra Kapoor Chopra Saxena "
    "Srivastava Mishra Tiwari Pandey Yadav Chauhan Rathore Shekhawat Meena Fernandes D'Souza"
).split()
STATE_RTOS = {
    "RJ": 59, "DL": 13, "MH": 50, "KA": 70, "TN": 99, "UP": 96, "GJ": 39, "HR": 99,
    "PB": 99, "MP": 70, "KL": 99, "TS": 38, "AP": 40, "WB": 99, "CH": 4,
}
REMARKS = (
    "", "", "", "Asked to call back in the evening.", "Wants a quote for the 20,000 km service.",
    "Busy, call tomorrow.", "Interested in wheel alignment.", "Brake pads squeaking.",
    "AC not cooling, wants pickup.", "Insurance renewal due next month.",
    "Happy with last service.", "Switched off.", "Prefers WhatsApp.",
    "Will visit the workshop on Saturday.", "Asked for the price list.",
)
# Rough shape of a car-service lead book.
STATUS_WEIGHTS = (
    (LeadStatus.NEEDS_FOLLOWUP, 34),
    (LeadStatus.DID_NOT_PICK_UP, 15),
    (LeadStatus.OPEN, 14),
    (LeadStatus.CONFIRMED, 12),
    (LeadStatus.COMPLETED, 14),
    (LeadStatus.LOST, 3),
    (LeadStatus.FEEDBACK, 8),
)
DUE_TODAY_SHARE = 0.04
# The benchmark's backlog (issue 14): of the leads not closed, the share with
# a follow-up before today and the share with none; the overdue ones spread
# over the dashboard's ages as (share of the overdue, youngest, oldest days).
BACKLOG_OVERDUE_SHARE = 0.30
BACKLOG_UNSCHEDULED_SHARE = 0.20
BACKLOG_AGES = ((0.10, 1, 1), (0.25, 2, 7), (0.35, 8, 30), (0.30, 31, 365))
# The work history seed_demo writes: the days before today it covers, the
# odds that a lead not closed was moved to its present follow-up on a day of
# that range (when it existed then and was due later), and the share of those
# moves made while the lead was already overdue.
HISTORY_DAYS = 14
MOVED_SHARE = 0.6
OVERDUE_WORK_SHARE = 0.15

LEAD_COLUMNS = (
    "customer_name", "mobile", "car_registration", "followup_date", "remarks",
    "status", "created_at", "modified_at", "creator_id",
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str


def ensure_demo_users(*, telecallers=8):
    """Create (or reuse) the admin, the manager and `telecallers` telecallers.

    Returns (logins, telecaller users ordered by username).
    """
    User = get_user_model()
    logins = [DemoLogin("admin", "admin", "superuser"), DemoLogin("manager", "manager", "manager")]
    admin, created = User.objects.get_or_create(
        username="admin",
        defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com"},
    )
    if created:
        admin.set_password("admin")
        admin.save(update_fields=["password"])
    manager, created = User.objects.get_or_create(
        username="manager",
        defaults={"is_staff": True, "first_name": "Meera", "last_name": "Manager"},
    )
    if created:
        manager.set_password("manager")
        manager.save(update_fields=["password"])
    manager.groups.add(Group.objects.get(name="Managers"))

    users = []
    for number in range(1, telecallers + 1):
        username = f"telecaller{number:02d}"
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": f"Caller {number}"}
        )
        if created:
            user.set_password("telecaller")
            user.save(update_fields=["password"])
        users.append(user)
    if users:
        Group.objects.get(name=TELECALLERS_GROUP).user_set.add(*users)
    if telecallers:
        logins.append(DemoLogin("telecaller01 … " + users[-1].username, "telecaller", "telecaller"))
    return logins, users


def _today_start():
    tz = timezone.get_current_timezone()
    return timezone.make_aware(datetime.combine(timezone.localdate(), time.min), tz)


def _registration(rng):
    roll = rng.random()
    if roll < 0.10:
        return ""
    if roll < 0.13:
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(rng.choice((1, 2))))
        return f"{rng.randint(21, 25):02d}BH{rng.randint(0, 9999):04d}{letters}"
    state = rng.choice(tuple(STATE_RTOS))
    series = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(rng.choice((1, 2, 2, 3))))
    return f"{state}{rng.randint(1, STATE_RTOS[state])}{series}{rng.randint(1, 9999):04d}"


def generate_lead_rows(*, count, creator_ids, seed, backlog=False):
    """Yield `count` lead rows (tuples in LEAD_COLUMNS order), deterministic
    for a seed and a business day.

    Created over the last year, follow-ups around today with about 4 % due
    today, every status, and closed (or feedback) leads often without a next
    call. With `backlog` (the benchmark's data), of the leads not closed
    BACKLOG_OVERDUE_SHARE have a follow-up before today, spread over the
    overdue ages (BACKLOG_AGES, up to a year old), BACKLOG_UNSCHEDULED_SHARE
    none, and the rest one from today on.
    """
    rng = random.Random(seed)
    today = _today_start()
    statuses = [status for status, _ in STATUS_WEIGHTS]
    weights = [weight for _, weight in STATUS_WEIGHTS]
    for _ in range(count):
        status = rng.choices(statuses, weights)[0]
        # Created at some moment in the last 365 days, or this morning.
        created_at = today - timedelta(seconds=rng.randrange(-9 * 3600, 365 * 86400))
        if backlog and status not in CLOSED_STATUSES:
            day_offset = _backlog_day_offset(rng)
        else:
            closed = status in (*CLOSED_STATUSES, LeadStatus.FEEDBACK)
            if rng.random() < (0.7 if closed else 0.08):
                day_offset = None
            elif rng.random() < DUE_TODAY_SHARE:
                day_offset = 0
            else:
                day_offset = rng.choice([d for d in range(-14, 31) if d != 0])
        if day_offset is None:
            followup = None
        else:
            followup = today + timedelta(days=day_offset, minutes=rng.randrange(9 * 60, 20 * 60))
        yield (
            f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            f"{rng.choice('6789')}{rng.randrange(10**9):09d}",
            _registration(rng),
            followup,
            rng.choice(REMARKS),
            str(status),
            created_at,
            created_at if followup is None else max(created_at, min(followup, today)),
            creator_ids[rng.randrange(len(creator_ids))],
        )


def _backlog_day_offset(rng):
    """A follow-up day (offset from today, None for none) for a lead not
    closed in the benchmark's backlog."""
    roll = rng.random()
    if roll < BACKLOG_UNSCHEDULED_SHARE:
        return None
    if roll < BACKLOG_UNSCHEDULED_SHARE + BACKLOG_OVERDUE_SHARE:
        pick = rng.random()
        for share, youngest, oldest in BACKLOG_AGES:
            if pick < share:
                return -rng.randint(youngest, oldest)
            pick -= share
        return -BACKLOG_AGES[-1][2]
    # Due from today on: today's share as in the demo, scaled to these leads.
    if rng.random() < DUE_TODAY_SHARE / (1 - BACKLOG_UNSCHEDULED_SHARE - BACKLOG_OVERDUE_SHARE):
        return 0
    return rng.randint(1, 30)


def load_leads(*, rows, batch_size=5000):
    """Insert lead rows: COPY on PostgreSQL, batches of bulk_create elsewhere.
    Returns the number of rows written."""
    if connection.vendor == "postgresql":
        # COPY bypasses the ORM, so it announces the change itself.
        owners = set()
        creator = LEAD_COLUMNS.index("creator_id")

        def noting_owners(rows):
            for row in rows:
                owners.add(row[creator])
                yield row

        with transaction.atomic():
            written = _copy_leads(noting_owners(rows))
            announce_leads_changed(Lead, owner_ids=owners)
        return written
    written = 0
    batch = []
    with transaction.atomic():
        for row in rows:
            batch.append(Lead(**dict(zip(LEAD_COLUMNS, row, strict=True))))
            if len(batch) >= batch_size:
                Lead.objects.bulk_create(batch)
                written += len(batch)
                batch = []
        if batch:
            Lead.objects.bulk_create(batch)
            written += len(batch)
    return written


def _copy_leads(rows, chunk_rows=5000):
    # Text COPY (crm.raw_sql): far less Python per row than write_row(), see
    # docs/performance.md. The history stamp (leads/history.py), so the
    # history triggers record the rows as the product's (a script's), not as
    # written from outside.
    stamp = history.stamp()
    columns = ", ".join([*LEAD_COLUMNS, *stamp])
    stamped = "\t" + "\t".join(map(copy_field, stamp.values()))
    copy_sql = f"COPY {Lead._meta.db_table} ({columns}) FROM STDIN"
    with transaction.atomic(), connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
        return write_copy_lines(
            copy, ("\t".join(map(copy_field, row)) + stamped for row in rows),
            chunk_rows=chunk_rows)


def _moment_on(rng, day, *, first_hour, last_hour):
    start = day_bounds(day)[0]
    return start + timedelta(minutes=rng.randrange(first_hour * 60, last_hour * 60))


def _work_moment(rng, day, *, today, now):
    """When a call on `day` was made: working hours, never after `now`."""
    start, _ = day_bounds(day)
    first, last = start + timedelta(hours=8), start + timedelta(hours=20)
    if day == today:
        last = min(last, now)
        if last <= first:
            first = start
    if last <= first:
        return None
    return first + timedelta(seconds=rng.randrange(int((last - first).total_seconds())))


def generate_work_history(*, leads, seed, now, days=HISTORY_DAYS):
    """Yield WorkedLead rows (unsaved) for `leads`, tuples (pk, creator_id,
    status, followup_date, created_at), as the telecallers would have recorded
    them over the `days` business days before `now`'s and that day so far.

    Each lead gets at most one row, consistent with how it stands now: a
    closed lead whose follow-up fell in those days was closed on that day
    (kind closed, old = new = its follow-up); some of the others with a later
    follow-up were moved to it on a day of the range (kind moved; a few of
    them from an overdue follow-up). Deterministic for a seed and a `now`.
    """
    rng = random.Random(f"work-history-{seed}")
    today = timezone.localdate(now)
    first_day = today - timedelta(days=days)
    for pk, creator_id, status, followup, created_at in leads:
        if followup is None:
            continue
        due_day = timezone.localdate(followup)
        created_day = max(timezone.localdate(created_at), first_day)
        if status in CLOSED_STATUSES:
            if not created_day <= due_day <= today:
                continue
            kind, day, old = WorkKind.CLOSED, due_day, followup
        else:
            # A day of the range, the same odds for each: then keep it only
            # if the lead existed and was not yet due later than that day.
            day = first_day + timedelta(days=rng.randrange(days + 1))
            if rng.random() >= MOVED_SHARE or not created_day <= day < due_day:
                continue
            old_day = day
            if rng.random() < OVERDUE_WORK_SHARE:
                old_day = day - timedelta(days=rng.randint(1, 7))
            kind, old = WorkKind.MOVED, _moment_on(rng, old_day, first_hour=9, last_hour=20)
            if old < created_at:
                continue
        worked_at = _work_moment(rng, day, today=today, now=now)
        if worked_at is None or worked_at < created_at:
            continue
        yield WorkedLead(lead_id=pk, user_id=creator_id, kind=kind, work_date=day,
                         old_followup_date=old, new_followup_date=followup, worked_at=worked_at)


def load_work_history(*, after_pk, creator_ids, seed, days=HISTORY_DAYS):
    """The demo's recorded past: work-log rows for the leads with a pk above
    `after_pk` (those just loaded) and, for each of `creator_ids` and each of
    the `days` days before today and today, the start-of-day snapshot the
    05:00 job would have taken.

    A snapshot is the creator's leads due on that day now plus those the
    work log shows were worked off it, so with a snapshot or without one the
    dashboard finds the same initial count. Returns (rows, snapshots) written.
    """
    now = timezone.now()
    today = timezone.localdate(now)
    leads = (
        Lead.objects.filter(pk__gt=after_pk, creator_id__in=creator_ids)
        .order_by("pk")
        .values_list("pk", "creator_id", "status", "followup_date", "created_at")
    )
    with transaction.atomic():
        rows = WorkedLead.objects.bulk_create(
            generate_work_history(leads=leads.iterator(), seed=seed, now=now, days=days),
            batch_size=2000,
        )
        snapshots = []
        for offset in range(days, -1, -1):
            day = today - timedelta(days=offset)
            counts = dict.fromkeys(creator_ids, 0)
            mine = Lead.objects.filter(creator_id__in=creator_ids).order_by()
            for due in (
                mine.due_on(day).values("creator_id").annotate(n=Count("pk")),
                mine.worked_off(day).values("creator_id").annotate(n=Count("pk", distinct=True)),
            ):
                for row in due:
                    counts[row["creator_id"]] += row["n"]
            snapshots += [FollowupSnapshot(user_id=user_id, date=day, initial_count=count)
                          for user_id, count in counts.items()]
        FollowupSnapshot.objects.bulk_create(
            snapshots, update_conflicts=True, unique_fields=["user", "date"],
            update_fields=["initial_count"],
        )
    return len(rows), len(snapshots)


def use_benchmark_database(name):
    """Point the default connection at the database `name` (on PostgreSQL a
    database, created when missing; on SQLite a file path) and migrate it:
    the benchmark commands' data sets live apart from the product's data."""
    default = connections["default"]
    if default.vendor == "postgresql":
        with default.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
    default.close()
    settings.DATABASES["default"]["NAME"] = name
    default.settings_dict["NAME"] = name
    call_command("migrate", verbosity=0, interactive=False)
    return name
