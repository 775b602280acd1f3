"""A group sitting on one server, measured (`make load`, `LEARNERS=N`; see docs/performance.md).

Sets up a PostgreSQL database of its own (`load_bench` on this machine's server, dropped first and at the end),
migrates, collects the static files, loads the shipped DOP-C02 bank (its `full-mock`: 75 of 450 questions, 180
minutes) and creates the learners with production password hashing; serves the app with gunicorn as production does
(`config/gunicorn.conf.py`, production settings through `bench/load/settings.py`, DEBUG off, whitenoise) on
127.0.0.1; then runs locust headless in its own process, twice:

  1. the sitting (`Sitting` in locustfile.py): every learner logs in through the login form during a lobby window,
     all start the mock within 5 s, answer at a compressed pace (2–4 s between actions: a question page, an
     autosave, sometimes a changed answer, a flag or the baseline GET and POST) for the answering phase, all submit
     within 5 s and open their results;
  2. the capacity step-up (`Probe`): a few more learners send bare POSTs and autosaves at stepped rates, one kind at
     a time, alternating, so that both capacities are measured on the same server in the same minute.

Then it checks the database against what the clients were told (every acknowledged answer is the stored one, no
attempt finished twice, every score equals a fresh re-grade) and prints the table, the pace, the load average and
the last line:

    load: learners=<N> start_p95=<ms> autosave_p95=<ms> question_p95=<ms> submit_p95=<ms> result_p95=<ms> errors=<n> lost=<n> autosave_ratio=<x.xx>

    .venv/bin/python bench/load/run.py [--learners 500] [--answer-seconds 180] [--probe-learners 40]
"""

import argparse
import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.served import psql, wait_until_up  # noqa: E402 - after the path is set

HOST, PORT = "127.0.0.1", 8766
DB_NAME = "load_bench"
REDIS_DB = 9
PGBOUNCER_PORT, PGBOUNCER_POOL = 6433, 20
PASSWORD = "load-bench-" + secrets.token_urlsafe(12)
PREFIX = {"Sitting": "learner-", "Probe": "probe-"}
INSTRUCTOR = "instructor-0"
STEP_RATES = [25, 50, 75, 100, 125, 150, 175, 200, 250, 300, 400, 500, 600, 800, 1000]
STEP_SECONDS = 6
# When to profile, from which moment of the schedule and for how long (s): 60 s of answering, or a whole spike.
PROFILE_WINDOWS = {"answering": ("start_at", 30, 60), "start": ("start_at", -1, 15), "submit": ("submit_at", -1, 30)}
ENDPOINTS = [
    "login page",
    "login",
    "lobby",
    "lobby poll",
    "instructor login",
    "proctor",
    "proctor poll",
    "instructor start",
    "start",
    "question page",
    "autosave",
    "flag",
    "bare GET",
    "bare POST",
    "submit",
    "result",
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=int(os.environ.get("LEARNERS", "500")))
    parser.add_argument("--answer-seconds", type=int, default=180, help="the answering phase (at least 180)")
    parser.add_argument("--probe-learners", type=int, default=40)
    parser.add_argument("--step-rates", default=",".join(map(str, STEP_RATES)), help="the step-up's rates, req/s")
    parser.add_argument("--keep", action="store_true", help="keep the database and the records at the end")
    parser.add_argument("--profile", action="store_true", help="py-spy every worker in one phase (--profile-phase)")
    parser.add_argument("--profile-phase", choices=sorted(PROFILE_WINDOWS), default="answering")
    parser.add_argument(
        "--servers", type=int, choices=(1, 2), default=1, help="2: two app servers behind HAProxy (docs/scaling.md)"
    )
    parser.add_argument(
        "--kill-after",
        type=int,
        default=None,
        help="with --servers 2: SIGKILL the second app server this many seconds into the answering phase "
        "(default: half way)",
    )
    parser.add_argument("--no-probe", action="store_true", help="skip the capacity step-up (no autosave ratio)")
    parser.add_argument(
        "--pgbouncer", action="store_true", help="the app servers reach PostgreSQL through PgBouncer, transaction mode"
    )
    args = parser.parse_args()
    if args.kill_after is None:
        args.kill_after = args.answer_seconds // 2
    args.step_rates = [int(rate) for rate in args.step_rates.split(",")]
    records = Path(tempfile.mkdtemp(prefix="load-bench-"))
    print(f"records (locust CSVs, raw samples, acknowledged answers, gunicorn's log): {records}")
    psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    psql(f"CREATE DATABASE {DB_NAME}")
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="bench.load.settings",
        SECRET_KEY="load-" + secrets.token_urlsafe(48),
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        CONN_MAX_AGE=os.environ.get("CONN_MAX_AGE", "60"),  # as docker-compose.yml runs it
        PYTHONPATH=str(ROOT),
    )
    if args.servers > 1 and redis_answers():
        # Several servers share one cache, as docker-compose.yml runs them (a database number of its own, flushed).
        env["REDIS_URL"] = f"redis://{HOST}:6379/{REDIS_DB}"
    os.environ.update(env)  # the set-up and the integrity check talk to PostgreSQL directly
    server_env = dict(env)
    if args.pgbouncer:
        server_env.update(
            DATABASE_URL=f"postgres://postgres@{HOST}:{PGBOUNCER_PORT}/{DB_NAME}", DATABASE_POOLER_TRANSACTION="true"
        )
    import django

    django.setup()
    began = time.monotonic()
    paths = prepare(args.learners, args.probe_learners)
    args.login_seconds = login_seconds()
    print(f"set-up: {time.monotonic() - began:.0f} s (database, bank, {args.learners + args.probe_learners} learners)")
    from django.db import connection

    connection.close()
    pooler = PgBouncer(records) if args.pgbouncer else None
    servers = start_servers(args.servers, records, server_env)
    balancer = start_haproxy(records, [server.port for server in servers]) if args.servers > 1 else None
    loads = LoadSampler()
    try:
        for server in servers:
            wait_until_up(HOST, server.port)
        if balancer:
            wait_until_up(HOST, PORT)
        workers = [pid for server in servers for pid in server.workers()]
        print(
            f"gunicorn: {len(servers)} server(s) with {len(workers)} sync workers in all (config/gunicorn.conf.py), "
            "PostgreSQL, DEBUG off"
            + (f"; HAProxy {balancer.version} in front, on {HOST}:{PORT}" if balancer else "")
            + ("; one Redis cache for all" if env.get("REDIS_URL") else "")
            + (
                f"; through PgBouncer {pooler.version} (transaction mode, {PGBOUNCER_POOL} server connections)"
                if pooler
                else ""
            )
        )
        loads.start()
        failover = None
        schedule = sitting_schedule(args, paths)
        if balancer:
            failover = Failover(servers[-1], balancer, schedule["start_at"] + 5 + args.kill_after)
            failover.start()
        sitting = run_sitting(args, records, env, schedule, loads, workers)
        if failover:
            failover.join(timeout=60)
            sitting["failover"] = failover.result
        probe = run_probe(args, records, env, paths, loads) if not args.no_probe else None
    finally:
        loads.stop()
        for server in servers:
            server.stop()
        if balancer:
            balancer.stop()
        if pooler:
            pooler.stop()
    report(args, records, sitting, probe, loads)
    if not args.keep:
        psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def login_seconds():
    """What one login's password check costs on this machine (production's hasher), best of three."""
    from django.contrib.auth.hashers import check_password, make_password

    encoded = make_password(PASSWORD)
    times = []
    for _ in range(3):
        began = time.perf_counter()
        check_password(PASSWORD, encoded)
        times.append(time.perf_counter() - began)
    print(f"a login's password check: {1000 * min(times):.0f} ms of one core (PBKDF2, production's iterations)")
    return min(times)


def redis_answers():
    """Whether this machine's Redis (127.0.0.1:6379) answers; if it does, empty the bench's database on it."""
    import redis

    try:
        redis.Redis(host=HOST, port=6379, db=REDIS_DB, socket_connect_timeout=1).flushdb()
    except redis.RedisError:
        print("cache: no Redis on 127.0.0.1:6379, so each worker keeps its own cache (the rate limits count apart)")
        return False
    return True


def prepare(learners, probe_learners):
    """The database, the shipped bank and its exams, the learners (one password hash, production's hasher), and
    their study group: an instructor, the full mock assigned to everyone, and a live sitting's lobby (its paths)."""
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.utils import timezone

    from quizapp.accounts.models import User
    from quizapp.exams.models import ExamBlueprint
    from quizapp.groups import services as groups
    from quizapp.groups.models import Assignment, Membership

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    call_command("load_bank", verbosity=0)
    mock = ExamBlueprint.objects.select_related("bank").get(bank__slug="dop-c02", slug="full-mock")
    assert mock.question_count == 75
    # Hashed once and shared: the set-up need not pay 0.3 s per learner; every login still verifies it in full.
    password = make_password(PASSWORD)
    users = [
        User(username=f"{PREFIX[kind]}{n}", email=f"{PREFIX[kind]}{n}@example.com", password=password)
        for kind, count in (("Sitting", learners), ("Probe", probe_learners))
        for n in range(count)
    ]
    instructor = User(username=INSTRUCTOR, email="instructor@example.com", password=password, role=User.Role.INSTRUCTOR)
    users.append(instructor)
    User.objects.bulk_create(users, batch_size=500)
    group = groups.group_create(owner=instructor, name=f"Load sitting of {learners}")
    Membership.objects.bulk_create(
        [Membership(group=group, user=user) for user in users if user.username.startswith(PREFIX["Sitting"])],
        batch_size=500,
    )
    now = timezone.now()
    assignment = groups.assignment_create(
        group=group,
        blueprint=mock,
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=1),
        attempt_limit=1,
        review_policy=Assignment.ReviewPolicy.AFTER_SUBMIT,
    )
    sitting = groups.sitting_open(assignment=assignment, now=now)
    base = f"/groups/{group.pk}/assignments/{assignment.pk}/sittings/{sitting.pk}/"
    return {"exam_path": f"/exams/{mock.bank.slug}/{mock.slug}/", "lobby_path": base + "lobby/", "proctor_path": base}


class AppServer:
    """One gunicorn serving the app, as production does, in a process group of its own (killed whole)."""

    def __init__(self, name, port, records, env, workers=None):
        self.name, self.port = name, port
        self.log = (records / f"gunicorn-{name}.log").open("w")
        env = dict(env, **({"GUNICORN_WORKERS": str(workers)} if workers else {}))
        command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "config/gunicorn.conf.py"]
        command += ["--bind", f"{HOST}:{port}", "--access-logfile", "/dev/null", "--error-logfile", "-"]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=self.log, start_new_session=True
        )

    def workers(self):
        return subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout.split()

    def kill(self):
        """SIGKILL the master and every worker at once: a machine that died, not a graceful stop."""
        os.killpg(self.process.pid, signal.SIGKILL)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def start_servers(count, records, env):
    """One server with the machine's default workers, or `count` servers sharing them (ports after PORT)."""
    if count == 1:
        return [AppServer("a", PORT, records, env)]
    each = workers_per_server(count)
    return [AppServer(chr(ord("a") + n), PORT + 1 + n, records, env, workers=each) for n in range(count)]


def workers_per_server(count):
    """gunicorn's 2n+1 sync workers for the machine, shared by `count` servers (rounded up: one may die)."""
    return max(2, (2 * (os.cpu_count() or 1) + 1) // count + 1)


HAPROXY_CONFIG = """\
# Written by bench/load/run.py for one run: HAProxy in front of {count} app servers on loopback.
global
    maxconn 4096
    stats socket {socket} mode 600 level admin

defaults
    mode http
    option httplog
    timeout connect 2s
    timeout client 120s
    timeout server 60s
    timeout queue 60s
    # A request that could not reach a server (refused, reset before it was sent) goes to another one.
    retries 3
    option redispatch 1

frontend app
    bind {host}:{port}
    default_backend web

backend web
    balance leastconn
    # The health check: two failures in a row (1 s apart) take a server out, two successes bring it back.
    option httpchk
    http-check send meth GET uri /healthz/ ver HTTP/1.1 hdr Host {host}
    http-check expect status 200
    # A sync worker takes one request at a time: HAProxy queues the rest rather than gunicorn's backlog, so a
    # queued request is never stranded on a server that dies. Between two checks, the first refused connection
    # takes a server out too (observe layer4): otherwise leastconn keeps choosing the dead server, which answers
    # fastest of all, and its retries run out before the check notices.
    default-server check inter 1s fall 2 rise 2 maxconn {per_server} observe layer4 error-limit 1 on-error mark-down
{servers}
"""


class Balancer:
    """HAProxy from Debian's package, in front of the app servers; its stats socket tells a server's state."""

    def __init__(self, records, ports, per_server):
        self.socket = records / "haproxy.sock"
        servers = "\n".join(f"    server {chr(ord('a') + n)} {HOST}:{port}" for n, port in enumerate(ports))
        config = HAPROXY_CONFIG.format(
            count=len(ports), socket=self.socket, host=HOST, port=PORT, per_server=per_server, servers=servers
        )
        path = records / "haproxy.cfg"
        path.write_text(config)
        check = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True)
        if check.returncode:
            raise SystemExit(f"haproxy refused its configuration:\n{check.stdout}{check.stderr}")
        self.version = subprocess.run(["haproxy", "-v"], capture_output=True, text=True).stdout.split()[2]
        self.log = (records / "haproxy.log").open("w")
        self.process = subprocess.Popen(["haproxy", "-db", "-f", str(path)], stdout=self.log, stderr=self.log)

    def server_states(self):
        """{server name: 'UP' | 'DOWN' | ...} from `show stat` on the stats socket."""
        import socket

        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(2)
            connection.connect(str(self.socket))
            connection.sendall(b"show stat\n")
            data = b""
            while chunk := connection.recv(65536):
                data += chunk
        rows = [line.split(",") for line in data.decode().splitlines() if line and not line.startswith("#")]
        return {row[1]: row[17] for row in rows if row[0] == "web" and row[1] not in ("BACKEND", "FRONTEND")}

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


def start_haproxy(records, ports):
    if not shutil.which("haproxy"):
        raise SystemExit(
            "--servers 2 needs HAProxy: `make load-cluster` installs Debian's package (scripts/ensure-haproxy)"
        )
    return Balancer(records, ports, per_server=workers_per_server(len(ports)))


PGBOUNCER_CONFIG = """\
; Written by bench/load/run.py for one run: PgBouncer in transaction mode between the app servers and PostgreSQL.
[databases]
{db} = host={host} port=5432 dbname={db} user=postgres

[pgbouncer]
listen_addr = {host}
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/userlist.txt
pool_mode = transaction
default_pool_size = {pool}
max_client_conn = 500
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
"""


class PgBouncer:
    """Debian's PgBouncer in transaction mode: every app worker's connection shares a pool of {PGBOUNCER_POOL}."""

    def __init__(self, records):
        program = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not Path(program).exists():
            raise SystemExit("--pgbouncer needs PgBouncer: `make load-cluster` installs Debian's package")
        # PgBouncer refuses to run as root: it runs as postgres, so its folder is not under the private records.
        folder = Path(tempfile.mkdtemp(prefix="load-bench-pgbouncer-"))
        folder.chmod(0o777)
        (records / "pgbouncer").symlink_to(folder)
        (folder / "userlist.txt").write_text('"postgres" ""\n')
        config = folder / "pgbouncer.ini"
        config.write_text(
            PGBOUNCER_CONFIG.format(db=DB_NAME, host=HOST, port=PGBOUNCER_PORT, folder=folder, pool=PGBOUNCER_POOL)
        )
        self.version = subprocess.run([program, "--version"], capture_output=True, text=True).stdout.split()[1]
        command = [program, str(config)]
        if os.geteuid() == 0:
            command[1:1] = ["-u", "postgres"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):
            try:
                psql("SELECT 1", database=DB_NAME, port=PGBOUNCER_PORT)
                return
            except subprocess.CalledProcessError:
                time.sleep(0.2)
        raise SystemExit(f"PgBouncer did not start: see {folder}/pgbouncer.log")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class Failover(threading.Thread):
    """At one moment of the answering phase, SIGKILL an app server; time until HAProxy's check takes it out."""

    def __init__(self, server, balancer, moment):
        super().__init__(daemon=True)
        self.server, self.balancer, self.moment = server, balancer, moment
        self.result = None

    def run(self):
        time.sleep(max(0, self.moment - time.time()))
        killed_at = time.time()
        self.server.kill()
        out_at = None
        while time.time() < killed_at + 30:
            try:
                if self.balancer.server_states().get(self.server.name, "").startswith("DOWN"):
                    out_at = time.time()
                    break
            except OSError:
                pass
            time.sleep(0.05)
        self.result = {"server": self.server.name, "killed_at": killed_at, "out_at": out_at}
        took = f"{1000 * (out_at - killed_at):.0f} ms" if out_at else "not within 30 s"
        print(
            f"failover: killed app server {self.server.name} (SIGKILL, master and workers); HAProxy took it out after {took}"
        )


class LoadSampler(threading.Thread):
    """The 1-minute load average every 5 s, to put next to each phase's figures (the machine is shared)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(5):
            self.samples.append((time.time(), os.getloadavg()[0]))

    def stop(self):
        self.stopping.set()

    def during(self, start, end):
        values = [value for moment, value in self.samples if start <= moment <= end]
        return max(values) if values else os.getloadavg()[0]


def locust(records, env, schedule, user_class, users, name):
    """Run locust headless in its own process for one schedule; return its raw samples and acknowledged answers."""
    folder = records / name
    folder.mkdir()
    schedule = dict(schedule, record_dir=str(folder))
    path = folder / "schedule.json"
    path.write_text(json.dumps(schedule))
    run_time = int(schedule["end_at"] - time.time()) + 30
    command = [
        str(Path(sys.executable).with_name("locust")),
        "-f",
        str(ROOT / "bench/load/locustfile.py"),
        *user_class.split(),
        "--headless",
        "--host",
        f"http://{HOST}:{PORT}",
        "--users",
        str(users),
        "--spawn-rate",
        str(max(users, 1)),
        "--run-time",
        f"{run_time}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(folder / "locust"),
        "--only-summary",
        "--exit-code-on-error",
        "0",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with (folder / "locust.log").open("w") as out:
        subprocess.run(
            command, env=dict(env, LOAD_SCHEDULE=str(path)), stdout=out, stderr=out, timeout=run_time + 120, check=True
        )
    samples = [json.loads(line) for file in folder.glob("samples-*.jsonl") for line in file.open()]
    acks = [json.loads(line) for file in folder.glob("acks-*.jsonl") for line in file.open()]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(f"{name}: locust used {cpu:.0f} s of CPU (the load generator shares the 2 cores)")
    return samples, acks


def sitting_schedule(args, paths):
    """The sitting's wall-clock moments: lobby, start, submit, end."""
    now = time.time()
    # A window the logins fit in with one core to spare: each costs a full password verification (measured).
    lobby_seconds = 20 + args.learners * args.login_seconds
    schedule = {
        "prefix": PREFIX,
        "password": PASSWORD,
        **paths,
        "instructor": INSTRUCTOR,
        "question_count": 75,
        "users": {"Sitting": args.learners, "Probe": 0, "Instructor": 1},
        "lobby_at": now + 5,
        "lobby_seconds": lobby_seconds,
    }
    schedule["start_at"] = schedule["lobby_at"] + lobby_seconds + 10
    schedule["submit_at"] = schedule["start_at"] + 5 + args.answer_seconds
    schedule["end_at"] = schedule["submit_at"] + 5 + 60
    return schedule


def run_sitting(args, records, env, schedule, loads, workers):
    lobby_seconds = schedule["lobby_seconds"]
    print(
        f"sitting: {args.learners} learners; lobby {lobby_seconds:.0f} s, start within 5 s, answering "
        f"{args.answer_seconds} s, submit within 5 s, results"
    )
    profiler = None
    if args.profile:
        window = PROFILE_WINDOWS[args.profile_phase]
        profiler = threading.Thread(target=profile, args=(records, workers, schedule, window), daemon=True)
        profiler.start()
    cpu_before = workers_cpu(workers)
    samples, acks = locust(records, env, schedule, "Sitting Instructor", args.learners + 1, "sitting")
    cpu = workers_cpu(workers) - cpu_before
    print(
        f"sitting: gunicorn's workers used {cpu:.0f} s of CPU, {1000 * cpu / max(1, len(samples)):.1f} ms a request "
        "on average (PostgreSQL's not counted)"
    )
    if profiler:
        profiler.join(timeout=5)
    phases = {
        "lobby": (schedule["lobby_at"], schedule["start_at"]),
        "start": (schedule["start_at"], schedule["start_at"] + 5),
        "answering": (schedule["start_at"] + 5, schedule["submit_at"]),
        "submit": (schedule["submit_at"], schedule["end_at"]),
    }
    return {
        "samples": samples,
        "acks": acks,
        "phases": phases,
        "loads": {k: loads.during(*v) for k, v in phases.items()},
    }


def workers_cpu(workers):
    """CPU seconds (user + system) the gunicorn workers have used so far, from /proc."""
    total = 0
    for pid in workers:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def profile(records, workers, schedule, window):
    """py-spy every worker for one window of the run: an SVG of the first, collapsed stacks of the others."""
    py_spy = Path(sys.executable).with_name("py-spy")
    if not py_spy.exists() or not workers:
        print("profile: py-spy is not installed in the venv (`.venv/bin/pip install py-spy`); skipped")
        return
    moment, offset, seconds = window
    time.sleep(max(0, schedule[moment] + offset - time.time()))
    recorders = []
    for n, pid in enumerate(workers):
        out = records / (f"profile-worker-{pid}.svg" if n == 0 else f"profile-worker-{pid}.txt")
        command = [
            str(py_spy),
            "record",
            "--pid",
            pid,
            "--duration",
            str(seconds),
            "--output",
            str(out),
            "--nonblocking",
        ]
        recorders.append(
            subprocess.Popen(
                command + ([] if n == 0 else ["--format", "raw"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
    for recorder in recorders:
        recorder.wait(timeout=120)
    print(
        f"profile: {records}/profile-worker-*.svg and .txt (py-spy, every worker, {seconds} s from {moment} {offset:+d} s); "
        "summarise with bench/load/profile_summary.py"
    )


def run_probe(args, records, env, paths, loads):
    now = time.time()
    steps = []
    moment = now + 15 + args.probe_learners * 0.5  # their logins, starts and first five pages come first
    for rate in args.step_rates:
        for kind in ("bare POST", "autosave"):
            steps.append({"kind": kind, "rate": rate, "from": moment, "to": moment + STEP_SECONDS})
            moment += STEP_SECONDS + 2  # a pause between steps: a step's backlog does not leak into the next
    schedule = {
        "prefix": PREFIX,
        "password": PASSWORD,
        **paths,
        "question_count": 75,
        "users": {"Sitting": 0, "Probe": args.probe_learners},
        "steps": steps,
        "end_at": moment,
    }
    print(
        f"step-up: {args.probe_learners} more learners; bare POST then autosave at each of {args.step_rates} req/s, "
        f"{STEP_SECONDS} s a step, until a kind fails two steps in a row (under 95 % of the rate delivered, p95 over 100 ms, or an error)"
    )
    samples, acks = locust(records, env, schedule, "Probe", args.probe_learners, "probe")
    for step in steps:
        step["load"] = loads.during(step["from"], step["to"] + 5)
    return {"samples": samples, "acks": acks, "steps": steps}


def percentile(values, fraction):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summarise(samples):
    by_name = defaultdict(list)
    for name, start, ms, ok in samples:
        by_name[name].append((start, ms, ok))
    rows = {}
    for name, items in by_name.items():
        times = [ms for _, ms, _ in items]
        starts = [start for start, _, _ in items]
        span = max(1.0, max(starts) - min(starts))
        rows[name] = {
            "requests": len(items),
            "errors": sum(1 for *_, ok in items if not ok),
            "rps": len(items) / span,
            "p50": percentile(times, 0.5),
            "p95": percentile(times, 0.95),
            "p99": percentile(times, 0.99),
        }
    return rows


def report(args, records, sitting, probe, loads):
    rows = summarise(sitting["samples"])
    print()
    print("| endpoint | requests | errors | req/s | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for name in ENDPOINTS:
        row = rows.get(name)
        if row:
            print(
                f"| {name} | {row['requests']} | {row['errors']} | {row['rps']:.1f} | {row['p50']:.0f} | "
                f"{row['p95']:.0f} | {row['p99']:.0f} |"
            )
    start, end = sitting["phases"]["answering"]
    answering = [s for s in sitting["samples"] if start <= s[1] < end]
    pace = len(answering) / (end - start)
    print(
        f"\npace: {pace:.1f} req/s in the answering phase ({end - start:.0f} s), against {args.learners / 3:.1f} "
        f"for {args.learners} learners waiting 2-4 s (mean 3 s) between actions with instant responses"
    )
    print(
        "load average (1 min, highest in the phase): " + ", ".join(f"{k} {v:.2f}" for k, v in sitting["loads"].items())
    )

    failover_report(sitting)
    steps = summarise(probe["samples"]) if probe else {}
    best = {"bare POST": 0.0, "autosave": 0.0}
    if probe:
        print("\n| step-up | target req/s | achieved req/s | errors | p50 ms | p95 ms | p99 ms | load | holds |")
        print("|---|---|---|---|---|---|---|---|---|")
    for step in probe["steps"] if probe else []:
        row = steps.get(f"probe {step['kind']} @{step['rate']}/s")
        if not row:
            continue
        achieved = row["requests"] / STEP_SECONDS
        # A step that did not get its rate through was past capacity even if its p95 looks fine: its learners,
        # each waiting for an answer before the next request, were held back by the server.
        holds = achieved >= 0.95 * step["rate"] and row["p95"] <= 100 and row["errors"] == 0
        if holds:
            best[step["kind"]] = max(best[step["kind"]], achieved)
        print(
            f"| {step['kind']} | {step['rate']} | {achieved:.0f} | {row['errors']} | {row['p50']:.0f} | "
            f"{row['p95']:.0f} | {row['p99']:.0f} | {step['load']:.2f} | {'yes' if holds else 'no'} |"
        )
    ratio = best["autosave"] / best["bare POST"] if best["bare POST"] else 0.0
    top = max(args.step_rates)
    for kind, rate in best.items():
        if rate >= 0.95 * top:
            print(f"note: {kind} held at the top step ({top} req/s): its capacity is at least that, not measured")
    print(
        "capacity: not measured in this run (--no-probe)"
        if not probe
        else f"capacity (highest rate delivered, ≥ 95 % of a step's, with p95 ≤ 100 ms and no error): "
        f"autosave {best['autosave']:.0f} req/s, "
        f"bare POST {best['bare POST']:.0f} req/s"
    )
    # The steps past capacity are meant to fail; the probe learners' own logins, starts and pages are not.
    probe_errors = sum(row["errors"] for name, row in steps.items() if "@" not in name)

    all_acks = sitting["acks"] + (probe["acks"] if probe else [])
    lost, problems = integrity(all_acks, args.learners)
    acknowledged = sum(1 for ack in all_acks if "position" in ack)
    print(f"\nintegrity: {acknowledged} acknowledged answers checked, {lost} not stored as acknowledged")
    for problem in problems:
        print(f"integrity: {problem}")
    if not problems:
        print(f"integrity: {args.learners} attempts finished once each, every score equals a fresh re-grade")
    errors = sum(row["errors"] for row in rows.values()) + probe_errors

    ratio_text = f"{ratio:.2f}" if probe else "n/a"  # not measured without the step-up

    def p95(name):
        return f"{rows.get(name, {}).get('p95', 0):.0f}"

    print(
        f"load: learners={args.learners} start_p95={p95('start')} autosave_p95={p95('autosave')} "
        f"question_p95={p95('question page')} submit_p95={p95('submit')} result_p95={p95('result')} "
        f"errors={errors + len(problems)} lost={lost} autosave_ratio={ratio_text}"
    )


def failover_report(sitting):
    """With two servers: which requests failed around the kill, and whether any failed elsewhere."""
    result = sitting.get("failover")
    if not result:
        return
    killed, out = result["killed_at"], result["out_at"] or result["killed_at"] + 30
    failed = [(name, start) for name, start, _, ok in sitting["samples"] if not ok]
    around = [name for name, start in failed if killed - 60 <= start <= out + 2]  # a request may start before
    elsewhere = len(failed) - len(around)
    kinds = ", ".join(f"{name} {around.count(name)}" for name in sorted(set(around))) or "none"
    print(
        f"failover: {len(around)} requests failed while server {result['server']} died and was taken out "
        f"({kinds}); {elsewhere} failed at any other time. A failed autosave is retried after 1 s, as the "
        "exam page does, and only a saved answer counts as acknowledged"
    )


def integrity(acks, learners):
    """Compare the database with what the clients were told; return (lost answers, other problems)."""
    from django.db import connection

    from quizapp.bank.models import Choice
    from quizapp.exams.grading import is_response_correct
    from quizapp.exams.models import Attempt, AttemptSlot, AttemptState

    connection.close()
    last = {}
    for ack in acks:  # each learner saved one request at a time, so a later line is a later acknowledgement
        if "position" in ack:
            last[(ack["attempt"], ack["position"])] = sorted(ack["choices"])
    stored = {
        (str(attempt), position): sorted(selected)
        for attempt, position, selected in AttemptSlot.objects.values_list(
            "attempt_id", "position", "selected_choice_ids"
        )
    }
    lost = sum(1 for key, choices in last.items() if stored.get(key) != choices)
    problems = []
    sitting = Attempt.objects.filter(user__username__startswith=PREFIX["Sitting"])
    per_user = defaultdict(int)
    for user_id in sitting.values_list("user_id", flat=True):
        per_user[user_id] += 1
    if len(per_user) != learners or any(count != 1 for count in per_user.values()):
        problems.append(f"{len(per_user)} learners with attempts, {sum(per_user.values())} attempts (want one each)")
    submitted = {ack["attempt"] for ack in acks if ack.get("submitted")}
    unfinished = sitting.exclude(state=AttemptState.FINISHED).count()
    if unfinished or len(submitted) != learners:
        problems.append(f"{unfinished} attempts not finished, {len(submitted)} submits acknowledged")
    correct = defaultdict(set)
    for version_id, choice_id in Choice.objects.filter(is_correct=True).values_list("version_id", "id"):
        correct[version_id].add(choice_id)
    regraded = defaultdict(int)
    for attempt_id, version_id, selected in AttemptSlot.objects.filter(attempt__in=sitting).values_list(
        "attempt_id", "question_version_id", "selected_choice_ids"
    ):
        regraded[attempt_id] += is_response_correct(selected_ids=selected, correct_ids=correct[version_id])
    wrong = [a for a, score in sitting.values_list("pk", "correct_count") if score is None or score != regraded[a]]
    if wrong:
        problems.append(f"{len(wrong)} attempts whose score is not a fresh re-grade")
    return lost, problems


if __name__ == "__main__":
    main()
