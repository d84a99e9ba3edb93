"""Redis fault test: what a Redis outage does to the running product. The load
test's server (gunicorn, 2 workers, debug off, PostgreSQL, 100,000 demo
leads) on a private Redis, under a bounded mixed load, while that Redis is
killed, frozen and paused for writes, 10 s each.

    make fault-test             # or: .venv/bin/python bench/fault_test.py [--json report.json]

Not part of the test suite. What it does, in order:

1. Starts a private redis-server on a free port (127.0.0.1, no persistence,
   `maxmemory 256mb` with `volatile-lru`, --redis-maxmemory), (re)creates and
   seeds the PostgreSQL database `crm_fault_load` as bench/load_test.py does
   (--database-url; the name must end in _load) and starts gunicorn on a free
   port with the same environment, then logs the virtual users in.
2. For each fault in turn (--faults, default kill,stop,pause): empties Redis
   and clears the dashboard's cache bypass (nothing stored before remains, so
   no stale entry can be uncovered), then runs the mixed load from
   --connections threads (one HTTP connection each, load_mix.lua's mix: the
   managers' and telecallers' dashboards as JSON and HTML, one request in 11
   a telecaller's quick update; plus every user's lead list) for --warmup s,
   a --window s "before" window, the fault, and an "after" window:
     kill   SIGKILL, restarted on the same port --window s later (empty);
     stop   SIGSTOP, SIGCONT --window s later;
     pause  CLIENT PAUSE <window> WRITE, CLIENT UNPAUSE at its end.
   Then every dashboard the load read (team and each user, every date) is
   fetched as data.json and compared with a fresh recomputation from the
   database (bench/load_test.py's check).
3. After the last fault: `compact_lead_counts --verify`, and the quick
   updates against the call log (every update answered 302 applied, each
   with exactly one WorkedLead row per remark line).
4. Prints one table (and writes JSON with --json), stops gunicorn and Redis.

Each request is timed from sending to the end of its response and counted in
the window where it started, or in the fault's when it was still running as
the fault began; latency covers every request, errors included.
An error is any answer but a 200 read or a 302 update to the dashboard, or a
socket error or timeout (10 s). Throughput counts the requests without error.
Targets (issue 13), per fault: 0 errors in the whole load, p95 under 1 s
during the fault, throughput during the fault at least half of the window
before it, 0 stale dashboards after. Exit status 0 only when every target is
met and the verification is clean.

Bounded: each load runs --warmup + 3 x --window seconds (a thread stops at
--max-requests), every socket has a timeout, and Redis is resumed and stopped
on any exit.
"""

import argparse
import http.client
import itertools
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

import load_test  # bench/ is on sys.path when this file runs as a script

ROOT = load_test.ROOT
PYTHON = load_test.PYTHON
HOST = load_test.HOST
FAULTS = ("kill", "stop", "pause")
FAULT_NAMES = {"kill": "killed (SIGKILL)", "stop": "frozen (SIGSTOP)",
               "pause": "CLIENT PAUSE WRITE"}
REQUEST_TIMEOUT = 10.0
REMARK_MARK = "fault test call "
TARGET_P95_MS = 1000
TARGET_THROUGHPUT_SHARE = 0.5


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url",
                        default="postgres://root@127.0.0.1:5432/crm_fault_load")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's; 0: a free port")
    parser.add_argument("--redis-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--redis-maxmemory", default="256mb")
    parser.add_argument("--faults", default=",".join(FAULTS),
                        help="comma-separated, in order: " + ", ".join(FAULTS))
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before 'before'")
    parser.add_argument("--window", type=float, default=10.0,
                        help="seconds of each fault and of the windows compared")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--max-requests", type=int, default=100_000, help="per connection")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=25)
    parser.add_argument("--keep-data", action="store_true", help="reuse the seeded database")
    parser.add_argument("--json", metavar="PATH", help="also write the report here")
    args = parser.parse_args(argv)
    args.faults = [name.strip() for name in args.faults.split(",") if name.strip()]
    unknown = sorted(set(args.faults) - set(FAULTS))
    if unknown or not args.faults:
        parser.error(f"--faults: choose from {', '.join(FAULTS)} (got {args.faults})")
    return args


# ---------------------------------------------------------------- pure logic

class Request(NamedTuple):
    """One request of the load: monotonic seconds; error None for a good answer."""
    started: float
    finished: float
    kind: str  # "read" or "write"
    error: str | None
    path: str = ""

    @property
    def ms(self):
        return (self.finished - self.started) * 1000


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil without floats
    return sorted_values[int(rank) - 1]


def split_windows(records, fault_start, fault_end, seconds):
    """{"before", "during", "after"}: (window start, window end, its Requests).

    The windows are `seconds` before the fault, the fault, and `seconds` after
    it. A request belongs to the window it started in, except that one still
    running when the fault began belongs to "during": the fault is what it met."""
    bounds = {"before": (fault_start - seconds, fault_start),
              "during": (fault_start, fault_end),
              "after": (fault_end, fault_end + seconds)}
    windows = {name: (start, end, []) for name, (start, end) in bounds.items()}
    for r in records:
        if r.started < fault_start <= r.finished and r.started >= fault_start - seconds:
            windows["during"][2].append(r)
            continue
        for start, end, inside in windows.values():
            if start <= r.started < end:
                inside.append(r)
    return windows


def window_stats(start, end, inside):
    """Figures for the Requests of the window [start, end).

    Throughput counts good answers per second of the window; latencies are in
    milliseconds, over every request (and the median of the writes alone);
    the slowest three are named with when they started in the window."""
    latencies = sorted(r.ms for r in inside)
    good = sum(1 for r in inside if r.error is None)
    seconds = end - start
    figures = {
        "seconds": round(seconds, 2),
        "requests": len(inside),
        "errors": len(inside) - good,
        "writes": sum(1 for r in inside if r.kind == "write"),
        "requests_per_second": round(good / seconds, 1) if seconds > 0 else None,
    }
    for name, p in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100)):
        value = percentile(latencies, p)
        figures[f"{name}_ms"] = None if value is None else round(value, 1)
    # The quick updates alone: each pays for its cache invalidation.
    value = percentile(sorted(r.ms for r in inside if r.kind == "write"), 50)
    figures["write_p50_ms"] = None if value is None else round(value, 1)
    figures["slowest"] = [f"{r.ms:.0f} ms {r.path} at {r.started - start:+.1f} s"
                          for r in sorted(inside, key=lambda r: -r.ms)[:3]]
    return figures


def judge(fault):
    """The targets missed by one fault's figures (an empty list: all met)."""
    before, during = fault["windows"]["before"], fault["windows"]["during"]
    missed = []
    if fault["errors"]:
        missed.append("errors")
    if during["p95_ms"] is None or during["p95_ms"] >= TARGET_P95_MS:
        missed.append("p95")
    if (during["requests_per_second"] or 0) < TARGET_THROUGHPUT_SHARE * (
            before["requests_per_second"] or 0):
        missed.append("throughput")
    if fault["stale"]:
        missed.append("stale")
    return missed


def format_table(report):
    def ms(value):
        return "-" if value is None else f"{value:,.1f}"

    lines = [
        f"{'fault':<8} {'window':<7} {'requests':>8} {'errors':>6} {'req/s':>7} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}   stale  targets",
        "-" * 98,
    ]
    for fault in report["faults"]:
        for name in ("before", "during", "after"):
            w = fault["windows"][name]
            tail = ""
            if name == "during":
                missed = fault["missed"]
                tail = (f"   {len(fault['stale']):>5}  "
                        + ("met" if not missed else "missed: " + ", ".join(missed)))
            lines.append(
                f"{fault['fault'] if name == 'before' else '':<8} {name:<7} {w['requests']:>8,} "
                f"{w['errors']:>6,} {ms(w['requests_per_second']):>7} {ms(w['p50_ms']):>8} "
                f"{ms(w['p95_ms']):>8} {ms(w['p99_ms']):>8} {ms(w['max_ms']):>8}{tail}"
            )
    return "\n".join(lines)


# ------------------------------------------------------------------- Redis

def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of this script's own: started, faulted and stopped by pid."""

    def __init__(self, port, maxmemory, log):
        self.port = port
        self.maxmemory = maxmemory
        self.log = log
        self.directory = tempfile.mkdtemp(prefix="crm-fault-redis-")
        self.process = None
        self.frozen = False

    def client(self):
        import redis

        return redis.Redis(host=HOST, port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def start(self):
        import redis

        command = ["redis-server", "--bind", HOST, "--port", str(self.port),
                   "--save", "", "--appendonly", "no", "--dir", self.directory,
                   "--maxmemory", self.maxmemory, "--maxmemory-policy", "volatile-lru"]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=self.log,
                                        start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except redis.RedisError:  # not listening yet
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port} within 10 s")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def freeze(self):
        self.frozen = True
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.process.send_signal(signal.SIGCONT)
        self.frozen = False

    def pause_writes(self, seconds):
        self.client().execute_command("CLIENT", "PAUSE", int(seconds * 1000), "WRITE")

    def unpause(self):
        self.client().execute_command("CLIENT", "UNPAUSE")

    def flush(self):
        self.client().flushall()

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        if self.frozen:
            self.thaw()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def inject(redis_server, fault, seconds):
    """Apply `fault` for `seconds`; returns (started, ended) on the monotonic clock."""
    started = time.monotonic()
    if fault == "kill":
        redis_server.kill()
        time.sleep(max(0.0, started + seconds - time.monotonic()))
        redis_server.start()
    elif fault == "stop":
        redis_server.freeze()
        time.sleep(seconds)
        redis_server.thaw()
    else:
        redis_server.pause_writes(seconds)
        time.sleep(max(0.0, started + seconds - time.monotonic()))
        redis_server.unpause()
    return started, time.monotonic()


# -------------------------------------------------------------------- load

class Traffic:
    """The requests of load_mix.lua (plus the lead lists), built for http.client."""

    def __init__(self, sessions, reads, writes, connections):
        self.sessions = sessions
        self.reads = reads
        self.writes = writes
        self.connections = connections
        self.minutes = itertools.count(1)  # each update moves a follow-up to a new minute
        self.followup_base = int(time.time()) // 60 * 60 + 60 * 86400
        self.statuses = ("needs_followup", "did_not_pick_up", "open", "confirmed")

    def read(self, rng):
        path, session = self.reads[rng.randrange(len(self.reads))]
        return "read", "GET", path, {"Cookie": self.sessions[session - 1]["cookie"]}, None

    def write(self, position, label):
        write = self.writes[position % len(self.writes)]
        session = self.sessions[write["session"] - 1]
        minute = next(self.minutes)
        followup = time.strftime("%Y-%m-%d %H:%M",
                                 time.gmtime(self.followup_base + 60 * minute))
        body = urllib.parse.urlencode({
            "csrfmiddlewaretoken": session["csrf"],
            "status": self.statuses[minute % len(self.statuses)],
            "followup_date": followup,
            "remark": f"{REMARK_MARK}{label}",
            "next": load_test.NEXT_PATH,
        })
        headers = {"Cookie": session["cookie"],
                   "Content-Type": "application/x-www-form-urlencoded"}
        return "write", "POST", f"/leads/{write['lead']}/quick-update/", headers, body


def run_load(traffic, port, phase, stop_event, hard_deadline, max_requests):
    """Closed-loop load, one thread per connection, until stop_event (or the
    hard deadline, or max_requests per thread). Returns the started threads
    and the list each fills in at its end: (records, writes sent, writes answered 302)."""
    results = [None] * traffic.connections

    def worker(number):
        rng = random.Random(7919 * number + phase)
        records, writes_sent, writes_ok = [], 0, 0
        connection = None
        sent = 0
        while (not stop_event.is_set() and time.monotonic() < hard_deadline
               and len(records) < max_requests):
            sent += 1
            if sent % load_test.WRITE_EVERY == 0:
                position = number + traffic.connections * writes_sent
                writes_sent += 1
                request = traffic.write(position, f"{phase}-{number}-{writes_sent}")
            else:
                request = traffic.read(rng)
            kind, method, path, headers, body = request
            started = time.monotonic()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
                connection.request(method, path, body=body, headers=headers)
                answer = connection.getresponse()
                answer.read()
                if answer.will_close:
                    connection.close()
                    connection = None
                location = answer.getheader("Location")
                if kind == "read" and answer.status == 200:
                    error = None
                elif kind == "write" and answer.status == 302 \
                        and location == load_test.NEXT_PATH:
                    error = None
                    writes_ok += 1
                else:
                    error = f"{answer.status} {method} {path} -> {location}"
            except (OSError, http.client.HTTPException) as exc:
                if connection is not None:
                    connection.close()
                connection = None
                error = f"{type(exc).__name__} {method} {path}"
            records.append(Request(started, time.monotonic(), kind, error, f"{method} {path}"))
        if connection is not None:
            connection.close()
        results[number] = (records, writes_sent, writes_ok)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True)
               for n in range(traffic.connections)]
    for thread in threads:
        thread.start()
    return threads, results


def run_fault(args, fault, traffic, redis_server, reset, verify):
    print(f"== fault {fault}: {FAULT_NAMES[fault]} for {args.window:g} s "
          f"({args.warmup:g} s warm-up, {args.window:g} s before, {args.window:g} s after)")
    reset()
    stop_event = threading.Event()
    began, cpu_began = time.monotonic(), time.process_time()
    phase_seconds = args.warmup + 3 * args.window
    threads, results = run_load(traffic, args.port, FAULTS.index(fault) + 1, stop_event,
                                began + phase_seconds + 30, args.max_requests)
    try:
        time.sleep(args.warmup + args.window)
        started, ended = inject(redis_server, fault, args.window)
        time.sleep(max(0.0, ended + args.window - time.monotonic()))
    finally:
        stop_event.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)
    if any(thread.is_alive() for thread in threads) or None in results:
        raise RuntimeError("a load thread did not stop")
    load_seconds, client_cpu = time.monotonic() - began, time.process_time() - cpu_began
    records = [r for rs, _, _ in results for r in rs]
    errors = [r for r in records if r.error is not None]
    stale = verify()
    fault_report = {
        "fault": fault,
        "description": FAULT_NAMES[fault],
        "fault_seconds": round(ended - started, 2),
        "load_seconds": round(load_seconds, 1),
        # The load generator shares the cores with the server: its own share.
        "client_cpu_share": round(client_cpu / load_seconds, 2),
        "requests": len(records),
        "errors": len(errors),
        "error_samples": sorted({r.error for r in errors})[:10],
        "writes_sent": sum(w for _, w, _ in results),
        "writes_answered_302": sum(ok for _, _, ok in results),
        "windows": {name: window_stats(*window) for name, window
                    in split_windows(records, started, ended, args.window).items()},
        "stale": stale,
    }
    fault_report["missed"] = judge(fault_report)
    w = fault_report["windows"]
    print(f"   {len(records):,} requests, {len(errors)} errors; p95 before "
          f"{w['before']['p95_ms']} ms, during {w['during']['p95_ms']} ms; "
          f"{len(stale)} stale dashboards; the load generator used "
          f"{fault_report['client_cpu_share']:.0%} of a core")
    return fault_report


# -------------------------------------------------------------------- main

def main():
    args = parse_args()
    # A SIGTERM ends the run through the finally blocks: Redis resumed and stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("fault test: terminated"))
    args.port = args.port or free_port()
    args.redis_port = args.redis_port or free_port()
    args.redis_url = f"redis://{HOST}:{args.redis_port}/0"
    env = load_test.server_env(args, secrets.token_urlsafe(50))
    os.environ.update(env)
    for name in [k for k in os.environ if k not in env and k.startswith(("CRM_", "DATABASE_"))]:
        del os.environ[name]
    sys.path.insert(0, str(ROOT))

    temp = Path(tempfile.gettempdir())
    redis_log_path = temp / "crm-fault-test-redis.log"
    gunicorn_log_path = temp / "crm-fault-test-gunicorn.log"
    begun = time.monotonic()
    with open(redis_log_path, "w") as redis_log, open(gunicorn_log_path, "w") as gunicorn_log:
        redis_server = PrivateRedis(args.redis_port, args.redis_maxmemory, redis_log)
        redis_server.start()
        try:
            report = prepare_and_run(args, env, redis_server, gunicorn_log)
        finally:
            redis_server.stop()
    report["run_seconds"] = round(time.monotonic() - begun, 1)
    print(f"gunicorn and Redis stopped (logs: {gunicorn_log_path}, {redis_log_path})")
    print()
    print(format_table(report))
    v = report["verification"]
    print(f"\nupdates: {v['updates_sent']:,} sent, {v['updates_answered_302']:,} answered 302, "
          f"{v['worked_lead_rows_added']:,} WorkedLead rows, {v['remark_lines_added']:,} "
          f"remark lines: {'consistent' if v['updates_consistent'] else 'INCONSISTENT'}")
    print(f"lead counters: {v['counters']}")
    print(f"one run: {report['run_seconds']} s; {'all targets met' if report['ok'] else 'NOT OK'}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        print(f"JSON report: {args.json}")
    sys.exit(0 if report["ok"] else 1)


def prepare_and_run(args, env, redis_server, gunicorn_log):
    if not args.keep_data:
        print(f"== database {args.database_url}: recreate, migrate, seed {args.leads} leads")
        load_test.recreate_database(args.database_url)
        load_test.manage(env, "migrate", "--noinput", "-v", "0")
        load_test.manage(env, "seed_demo", "--force", "--leads", str(args.leads),
                         "--users", str(args.users))
    load_test.manage(env, "collectstatic", "--noinput", "-v", "0")
    load_test.manage(env, "compact_lead_counts")

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from dashboard.models import CacheBypass
    from leads.models import Lead, WorkedLead

    User = get_user_model()
    today = timezone.localdate()
    dates = [today, today - timedelta(days=1), today + timedelta(days=1), today - timedelta(days=7)]
    telecallers = list(User.objects.filter(username__startswith="telecaller")
                       .order_by("username")[:load_test.TELECALLERS_LOGGED_IN])
    reads, combos, writes = load_test.plan_traffic(dates, telecallers, today, Lead)
    # The lead lists too (the manager's: every lead, newest first).
    reads += [("/leads/", 1)] + [("/leads/", index) for index in range(3, len(telecallers) + 3)]

    def remark_lines():
        return sum(remarks.count(REMARK_MARK) for remarks in
                   Lead.objects.filter(remarks__contains=REMARK_MARK)
                   .values_list("remarks", flat=True))

    def reset():
        # Nothing stored before survives the flush, so no stale entry can be
        # uncovered by clearing a bypass an earlier fault left.
        redis_server.flush()
        CacheBypass.objects.all().delete()

    base = f"http://{HOST}:{args.port}"
    server = load_test.start_gunicorn(args, env, gunicorn_log)
    try:
        print(f"== gunicorn on {base}, Redis on port {args.redis_port}; logging in "
              f"{len(telecallers) + 2} virtual users")
        manager = load_test.Browser(base)
        sessions = [manager.login("manager", "manager"),
                    load_test.Browser(base).login("admin", "admin")]
        sessions += [load_test.Browser(base).login(user.username, "telecaller")
                     for user in telecallers]
        traffic = Traffic(sessions, reads, writes, args.connections)
        worked_before, lines_before = WorkedLead.objects.count(), remark_lines()

        def verify():
            return load_test.verify_dashboard(manager, combos, User)

        faults = [run_fault(args, fault, traffic, redis_server, reset, verify)
                  for fault in args.faults]
    finally:
        load_test.stop(server)

    worked = WorkedLead.objects.count() - worked_before
    lines = remark_lines() - lines_before
    sent = sum(f["writes_sent"] for f in faults)
    answered = sum(f["writes_answered_302"] for f in faults)
    counters = subprocess.run([PYTHON, "manage.py", "compact_lead_counts", "--verify"],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
    verification = {
        "dashboards_compared_per_fault": len(combos),
        "updates_sent": sent,
        "updates_answered_302": answered,
        "worked_lead_rows_added": worked,
        "remark_lines_added": lines,
        "updates_consistent": worked == lines and answered <= worked <= sent,
        "counters": counters.stdout.strip() or counters.stderr.strip(),
        "counters_ok": counters.returncode == 0,
    }
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "leads": args.leads,
        "users": args.users,
        "connections": args.connections,
        "warmup_seconds": args.warmup,
        "window_seconds": args.window,
        "redis_maxmemory": args.redis_maxmemory,
        "faults": faults,
        "verification": verification,
        "ok": (all(not f["missed"] for f in faults) and verification["updates_consistent"]
               and verification["counters_ok"]),
    }


if __name__ == "__main__":
    main()
