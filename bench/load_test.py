"""Load test: gunicorn (2 workers) on PostgreSQL + Redis with 100,000 demo leads,
60 s of mixed traffic from wrk on loopback, then a check that the dashboard
serves exactly what a fresh recomputation gives.

    make load-test              # or: .venv/bin/python bench/load_test.py [--seconds 60]

Not part of the test suite. What it does, in order:

1. (Re)creates the PostgreSQL database `crm_load` (--database-url), migrates
   it and seeds it: `seed_demo --force --leads 100000 --users 25`, debug off.
   Empties Redis database 4 (--redis-url), which nothing else uses.
2. Starts gunicorn (`--workers 2 --no-control-socket`) on 127.0.0.1 with debug
   off and the documented plain-HTTP intranet switches
   (DJANGO_SECURE_SSL_REDIRECT=0, DJANGO_SECURE_COOKIES=0,
   DJANGO_SECURE_HSTS_SECONDS=0): wrk speaks plain HTTP to loopback.
3. Logs each virtual user in with a real login POST (CSRF token from the form),
   then runs wrk (bench/load_mix.lua) for --seconds: managers read the team's
   and single users' dashboards (JSON and HTML, several dates), telecallers
   their own, and one request in 11 is a telecaller's quick update of one of
   their leads due today (a new follow-up each time). Any response other than
   a 200 read or a 302 update is an error.
4. Reads the dashboard cache's hit/miss counters before and after: the hit
   rate of the run, and per view (the team's, single users') how many
   requests were full hits, rebuilt without reading the lead table (from
   cached sections) and misses that read it.
   --write-every N sends one quick update every N requests (default 11);
   --warm reads every URL once first, so that the figures leave out the
   first miss of each entry in an empty cache (a server running for hours
   has paid those long ago). Also the leak check: the resident memory of
   gunicorn's two workers just before wrk starts and just after it stops,
   its growth in total and per 1,000 requests.
5. Verifies: for every date/user the run read, data.json through the server
   (cached) equals the selectors computed directly on the database, cache
   bypassed; WorkedLead grew by exactly the number of updates applied (each
   update's remark line and its WorkedLead row are written together), at
   least every update answered 302 and at most every update sent; the lead
   counters match the lead table.
6. Stops gunicorn. Bounded: wrk stops after --seconds or --max-responses per
   thread, whichever comes first, and is killed if it overruns by 60 s.

Exit status 0 only with zero errors and a clean verification.
"""

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
NEXT_PATH = "/dashboard/?from=quick-update"
WRITE_EVERY = 11  # one update per ten reads
RSS_SAMPLE_SECONDS = 5
TELECALLERS_LOGGED_IN = 12
LEADS_PER_TELECALLER = 40


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://root@127.0.0.1:5432/crm_load")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    parser.add_argument("--port", type=int, default=8871)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=25)
    parser.add_argument("--max-responses", type=int, default=500_000, help="per wrk thread")
    parser.add_argument("--keep-data", action="store_true", help="reuse the seeded database")
    parser.add_argument("--warm", action="store_true",
                        help="read every URL once before measuring (the hit rate then "
                             "leaves out the empty cache's first misses)")
    parser.add_argument("--write-every", type=int, default=WRITE_EVERY, metavar="N",
                        help=f"one quick update every N requests (default {WRITE_EVERY})")
    return parser.parse_args()


def server_env(args, secret_key):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "REDIS_", "CRM_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="crm.settings",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secret_key,
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_CSRF_TRUSTED_ORIGINS=f"http://{HOST}:{args.port}",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_SECURE_HSTS_SECONDS="0",
    )
    return env


def manage(env, *command):
    subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True)


def recreate_database(url):
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or not name.endswith("_load"):
        sys.exit(f"refusing to recreate {name!r}: the load test's database name must end in _load")
    maintenance = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def start_gunicorn(args, env, log):
    command = [str(Path(PYTHON).parent / "gunicorn"), "crm.wsgi", "--bind", f"{HOST}:{args.port}",
               "--workers", "2", "--no-control-socket"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log,
                               start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{args.port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    stop(process)
    sys.exit("gunicorn did not answer /healthz within 30 s")


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # gunicorn stops its workers gracefully
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def worker_rss_kib(master_pid):
    """{pid: resident set size in KiB} of gunicorn's workers: the processes
    whose parent is the master (read from /proc; Linux only)."""
    sizes = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != master_pid:  # fields[1]: the parent's pid
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        if match:
            sizes[int(stat.parent.name)] = int(match.group(1))
    return sizes


def rss_growth(before, after, requests):
    """The workers' RSS before and after the run and its growth (the leak
    check): in total and per 1,000 requests served by both workers. A worker
    that was replaced meanwhile (a crash) shows as missing."""
    common = sorted(set(before) & set(after))
    growth = sum(after[pid] - before[pid] for pid in common)
    return {
        "workers_before_kib": before, "workers_after_kib": after,
        "workers_replaced": sorted(set(before) - set(after)),
        "growth_kib": growth,
        "growth_kib_per_1000_requests": round(1000 * growth / requests, 1) if requests else None,
    }


class Browser:
    """One virtual user: a cookie jar and a real login through the login form."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name):
        return next((c.value for c in self.jar if c.name == name), None)

    def login(self, username, password):
        with self.opener.open(f"{self.base}/accounts/login/", timeout=30) as page:
            html = page.read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token}
        ).encode()
        with self.opener.open(f"{self.base}/accounts/login/", data=form, timeout=30) as answer:
            if not answer.url.startswith(f"{self.base}/dashboard/"):
                sys.exit(f"login of {username} failed (ended at {answer.url})")
        # Django rotates the CSRF token at login: the new cookie is the one to send.
        return {"cookie": f"sessionid={self.cookie('sessionid')}; "
                          f"csrftoken={self.cookie('csrftoken')}",
                "csrf": self.cookie("csrftoken")}

    def get_json(self, path):
        with self.opener.open(f"{self.base}{path}", timeout=30) as answer:
            return json.loads(answer.read())


def lua_value(value):
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {lua_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "{" + ", ".join(lua_value(v) for v in value) + "}"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string literal is a valid Lua string here (ASCII)
    return str(value)


def stats_by_window():
    from dashboard.cache import cache_stats

    windows = {}
    for offset in (0, 1):
        stats = cache_stats(window_offset=offset)
        windows[stats["window_start"]] = stats
    return windows


def hit_rate(before, after):
    hits = misses = 0
    for start, stats in after.items():
        earlier = before.get(start, {}).get("total", {"hits": 0, "misses": 0})
        hits += stats["total"]["hits"] - earlier["hits"]
        misses += stats["total"]["misses"] - earlier["misses"]
    return hits, misses


def view_outcomes(before, after):
    """{view: {"hit", "rebuilt", "miss", "lead_table_share"}} over the run:
    per request of the team view and of single users' views, whether the whole
    response was cached, rebuilt from cached sections without
    reading the lead table, or read it (dashboard/view_outcomes.py)."""
    views = {}
    for start, stats in after.items():
        earlier = before.get(start, {}).get("views", {})
        for view, outcomes in stats["views"].items():
            counted = views.setdefault(view, dict.fromkeys(outcomes, 0))
            for outcome, n in outcomes.items():
                counted[outcome] += n - earlier.get(view, {}).get(outcome, 0)
    for counted in views.values():
        total = sum(counted.values())
        counted["lead_table_share"] = round(counted["miss"] / total, 4) if total else None
    return views


def response_hit_rate(views):
    """Of the dashboard requests counted in `views` (view_outcomes), the share
    answered whole from the cache. The request hit rate (cache_stats' total)
    counts request lookups instead, and a manager's query naming a user looks
    the user list up as one more, nearly always a hit."""
    hits = sum(counted["hit"] for counted in views.values())
    total = sum(counted[outcome] for counted in views.values()
                for outcome in ("hit", "rebuilt", "miss"))
    return round(hits / total, 4) if total else None


WRK_MISSING = "load test: wrk is not installed: apt-get install -y wrk"


def main():
    args = parse_args()
    # Before anything is recreated or started: the last step needs wrk.
    if shutil.which("wrk") is None:
        sys.exit(WRK_MISSING)
    env = server_env(args, secrets.token_urlsafe(50))
    os.environ.update(env)
    for name in [k for k in os.environ if k not in env and k.startswith(("CRM_", "DATABASE_"))]:
        del os.environ[name]
    sys.path.insert(0, str(ROOT))

    if not args.keep_data:
        print(f"== database {args.database_url}: recreate, migrate, seed {args.leads} leads")
        recreate_database(args.database_url)
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "seed_demo", "--force", "--leads", str(args.leads), "--users", str(args.users))
    manage(env, "collectstatic", "--noinput", "-v", "0")
    manage(env, "compact_lead_counts")

    import django

    django.setup()
    import redis
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from leads.models import Lead, WorkedLead

    redis.Redis.from_url(args.redis_url).flushdb()

    User = get_user_model()
    today = timezone.localdate()
    dates = [today, today - timedelta(days=1), today + timedelta(days=1), today - timedelta(days=7)]
    telecallers = list(User.objects.filter(username__startswith="telecaller")
                       .order_by("username")[:TELECALLERS_LOGGED_IN])

    base = f"http://{HOST}:{args.port}"
    log_path = Path(tempfile.gettempdir()) / "crm-load-test-gunicorn.log"
    with open(log_path, "w") as log:
        server = start_gunicorn(args, env, log)
        try:
            report = run(args, base, dates, telecallers, today, Lead, WorkedLead, User,
                         server_pid=server.pid)
        finally:
            stop(server)
    print(f"gunicorn stopped (log: {log_path})")
    print(json.dumps(report, indent=2))
    for view, counted in report["cache"]["views"].items():
        print(f"{view} view: {counted['hit']} full hits, {counted['rebuilt']} rebuilt without "
              f"the lead table, {counted['miss']} read it ({counted['lead_table_share']})")
    print(f"request hit rate {report['cache']['hit_rate']} (one update every "
          f"{args.write_every} requests); dashboard requests answered whole from the cache "
          f"{report['cache']['response_hit_rate']}")
    memory = report["memory"]
    print(f"workers' RSS grew {memory['growth_kib']:,} KiB over {report['requests']:,} requests "
          f"({memory['growth_kib_per_1000_requests']} KiB per 1,000); both workers, KiB by second: "
          + ", ".join(f"{second:g}: {kib:,}"
                      for second, kib in memory["workers_total_kib_over_time"]))
    sys.exit(0 if report["ok"] else 1)


def run(args, base, dates, telecallers, today, Lead, WorkedLead, User, *, server_pid):
    print(f"== logging in {len(telecallers) + 2} virtual users")
    started = time.monotonic()
    manager = Browser(base)
    sessions = [manager.login("manager", "manager"), Browser(base).login("admin", "admin")]
    for user in telecallers:
        sessions.append(Browser(base).login(user.username, "telecaller"))
    print(f"   {time.monotonic() - started:.1f} s")

    reads, combos, writes = plan_traffic(dates, telecallers, today, Lead)

    data = {
        "sessions": sessions,
        "reads": [{"path": path, "session": session} for path, session in reads],
        "writes": writes,
        "write_every": args.write_every,
        "next_path": NEXT_PATH,
        # Follow-ups move to minutes from 60 days ahead, each update a new minute.
        "followup_base": int(time.time()) // 60 * 60 + 60 * 86400,
        "max_responses": args.max_responses,
    }
    data_file = Path(tempfile.gettempdir()) / "crm-load-test-data.lua"
    data_file.write_text("return " + lua_value(data) + "\n")

    if args.warm:
        started = time.monotonic()
        for path, session in reads:
            request = urllib.request.Request(f"{base}{path}",
                                             headers={"Cookie": sessions[session - 1]["cookie"]})
            with urllib.request.urlopen(request, timeout=30) as answer:
                answer.read()
        print(f"== warmed the cache: {len(reads)} reads in {time.monotonic() - started:.1f} s")
    worked_before = WorkedLead.objects.count()
    # An earlier run's lines stay in the remarks with --keep-data: count the run's own.
    remark_lines_before = load_test_remark_lines(Lead)
    stats_before = stats_by_window()
    # The leak check: the workers' memory once logins (and --warm) have
    # loaded what a worker loads, then after the run's mixed requests.
    rss_before = worker_rss_kib(server_pid)
    print(f"== wrk: {args.seconds} s, {args.threads} threads, {args.connections} connections, "
          f"{len(reads)} read URLs, {len(writes)} leads to update")
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections),
               "-d", f"{args.seconds}s", "--timeout", "10s", "--latency",
               "-s", str(ROOT / "bench" / "load_mix.lua"), base, "--", str(args.threads)]
    wrk = subprocess.Popen(command, env={**os.environ, "CRM_LOAD_DATA": str(data_file)},
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The workers' memory every few seconds of the run: a leak keeps growing
    # to the end, warming up (caches, the allocator's arenas) levels off.
    rss_samples = [(0.0, sum(rss_before.values()))]
    started = time.monotonic()
    while wrk.poll() is None and time.monotonic() - started < args.seconds + 60:
        time.sleep(RSS_SAMPLE_SECONDS)
        rss_samples.append((round(time.monotonic() - started, 1),
                            sum(worker_rss_kib(server_pid).values())))
    if wrk.poll() is None:
        wrk.kill()
    stdout, stderr = wrk.communicate()
    print(stdout)
    if wrk.returncode != 0:
        print(stderr)
        sys.exit("wrk failed")
    rss_after = worker_rss_kib(server_pid)
    line = next(line for line in stdout.splitlines() if line.startswith("CRM_LOAD_RESULT"))
    load = json.loads(line.split(" ", 1)[1])
    stats_after = stats_by_window()
    hits, misses = hit_rate(stats_before, stats_after)
    views = view_outcomes(stats_before, stats_after)

    # Updates still in flight when wrk stopped commit, then invalidate: wait
    # until the work log stops growing.
    settled, last = time.monotonic() + 10, None
    while time.monotonic() < settled and last != (last := WorkedLead.objects.count()):
        time.sleep(1)
    print("== verifying the dashboard against a fresh recomputation")
    stale = verify_dashboard(manager, combos, User)
    worked = WorkedLead.objects.count() - worked_before
    remark_lines = load_test_remark_lines(Lead) - remark_lines_before
    counters = subprocess.run([PYTHON, "manage.py", "compact_lead_counts", "--verify"],
                              cwd=ROOT, capture_output=True, text=True)

    seconds = load["duration_us"] / 1e6
    errors = load["bad_responses"] + load["socket_errors"] + load["timeouts"]
    updates_consistent = (
        worked == remark_lines
        and load["writes_ok"] <= worked <= load["writes_sent"]
        and worked - load["writes_ok"] <= args.connections  # in flight when wrk stopped
    )
    return {
        "requests": load["requests"],
        "seconds": round(seconds, 1),
        "requests_per_second": round(load["requests"] / seconds, 1),
        "latency_ms": {name: round(load[f"{name}_us"] / 1000, 1)
                       for name in ("p50", "p95", "p99", "max")},
        "reads_ok": load["reads_ok"],
        "updates_sent": load["writes_sent"],
        "updates_answered_302": load["writes_ok"],
        "errors": errors,
        "error_samples": load["error_samples"],
        "write_every": args.write_every,
        "warmed": args.warm,
        "memory": {**rss_growth(rss_before, rss_after, load["requests"]),
                   "workers_total_kib_over_time": rss_samples},
        "cache": {"hits": hits, "misses": misses,
                  "hit_rate": round(hits / (hits + misses), 4) if hits + misses else None,
                  "response_hit_rate": response_hit_rate(views),
                  "views": views},
        "verification": {
            "dashboards_compared": len(combos),
            "stale_or_different": stale,
            "worked_lead_rows_added": worked,
            "remark_lines_added": remark_lines,
            "updates_consistent": updates_consistent,
            "counters": counters.stdout.strip() or counters.stderr.strip(),
        },
        "ok": errors == 0 and not stale and updates_consistent and counters.returncode == 0,
    }


def load_test_remark_lines(Lead):
    return sum(
        remarks.count("load test call ")
        for remarks in Lead.objects.filter(remarks__contains="load test call ")
        .values_list("remarks", flat=True)
    )


def plan_traffic(dates, telecallers, today, Lead):
    """What the virtual users do, as in bench/load_mix.lua: the reads as (path,
    session index) pairs, the (date, user id or None) dashboards they cover,
    and the leads to quick-update as {"lead", "session"} dicts. Session 1 is
    the manager, 2 the admin, 3 onwards the telecallers in order."""
    reads, combos = [], set()
    watched = [user.pk for user in telecallers[:6]]
    for day in dates:
        d = day.isoformat()
        for session in (1, 2):  # the two managers
            reads.append((f"/dashboard/data.json?date={d}", session))
            reads.append((f"/dashboard/?date={d}", session))
            combos.add((d, None))
            for user_id in watched:
                reads.append((f"/dashboard/data.json?date={d}&user={user_id}", session))
                combos.add((d, user_id))
    for index, user in enumerate(telecallers, start=3):
        for day in dates[:2]:
            d = day.isoformat()
            reads.append((f"/dashboard/data.json?date={d}", index))
            reads.append((f"/dashboard/?date={d}", index))
            combos.add((d, user.pk))

    writes = []
    for index, user in enumerate(telecallers, start=3):
        due = Lead.objects.filter(creator=user).followup_on(today).order_by("pk")
        writes += [{"lead": pk, "session": index}
                   for pk in due.values_list("pk", flat=True)[:LEADS_PER_TELECALLER]]
    # Interleave the telecallers, so every stretch of the run has all of them.
    writes.sort(key=lambda w: (w["lead"] % 97, w["lead"]))

    return reads, combos, writes


def verify_dashboard(browser, combos, User):
    """The (date, user) combinations whose served document differs from a
    recomputation straight from the database (cache not consulted)."""
    from datetime import date

    from django.core.serializers.json import DjangoJSONEncoder

    from dashboard import selectors

    different = []
    for day_text, user_id in sorted(combos, key=lambda c: (c[0], c[1] or 0)):
        query = f"date={day_text}" + (f"&user={user_id}" if user_id else "")
        served = browser.get_json(f"/dashboard/data.json?{query}")
        day = date.fromisoformat(day_text)
        user = None
        if user_id:
            user = {"id": user_id, "username": User.objects.get(pk=user_id).username}
        with selectors.shared_queries():
            fresh = selectors.dashboard_document(
                day=day, user=user,
                day_metrics=selectors.dashboard_day_metrics(day=day, user_id=user_id),
                team_performance=selectors.dashboard_team_performance(day=day, user_id=user_id),
                due=selectors.dashboard_due_page(day=day, user_id=user_id, page=1),
            )
        if served != json.loads(json.dumps(fresh, cls=DjangoJSONEncoder)):
            different.append(query)
    return different


if __name__ == "__main__":
    main()
