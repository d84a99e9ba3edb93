"""Deterministic demo and benchmark data: users and realistic leads.

Used by ``seed_demo`` and by the dashboard benchmark, so both load the same
kind of data. The same seed on the same business day gives the same rows.
"""

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from leads.models import Lead, LeadStatus
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
    (LeadStatus.COMPLETED, 17),
    (LeadStatus.FEEDBACK, 8),
)
DUE_TODAY_SHARE = 0.04

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


def generate_lead_rows(*, count, creator_ids, seed):
    """Yield `count` lead rows (tuples in LEAD_COLUMNS order), deterministic
    for a seed and a business day.

    Created over the last year, follow-ups around today with about 4 % due
    today, all six statuses, and closed leads often without a next call.
    """
    rng = random.Random(seed)
    today = _today_start()
    statuses = [status for status, _ in STATUS_WEIGHTS]
    weights = [weight for _, weight in STATUS_WEIGHTS]
    for _ in range(count):
        status = rng.choices(statuses, weights)[0]
        # Created at some moment in the last 365 days, or this morning.
        created_at = today - timedelta(seconds=rng.randrange(-9 * 3600, 365 * 86400))
        closed = status in (LeadStatus.COMPLETED, LeadStatus.FEEDBACK)
        if rng.random() < (0.7 if closed else 0.08):
            followup = None
        else:
            if rng.random() < DUE_TODAY_SHARE:
                day_offset = 0
            else:
                day_offset = rng.choice([d for d in range(-14, 31) if d != 0])
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


def _copy_field(value):
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    # Demo values never hold tabs, newlines or backslashes; escape anyway so
    # the loader stays correct if the generator changes.
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _copy_leads(rows, chunk_rows=5000):
    # Text COPY fed in preformatted chunks rather than one write_row() call
    # per row: far less Python per row (docs/performance.md), and the server
    # parses it in one stream.
    columns = ", ".join(LEAD_COLUMNS)
    written = 0
    copy_sql = f"COPY {Lead._meta.db_table} ({columns}) FROM STDIN"
    with transaction.atomic(), connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
        lines = []
        for row in rows:
            lines.append("\t".join(map(_copy_field, row)))
            if len(lines) >= chunk_rows:
                copy.write("\n".join(lines) + "\n")
                written += len(lines)
                lines = []
        if lines:
            copy.write("\n".join(lines) + "\n")
            written += len(lines)
    return written
