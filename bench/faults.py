"""Inject faults into a running exam server and check that no acknowledged answer is lost (`make faults`).

Sets up a PostgreSQL database of its own (`faults_bench` on this machine's server, dropped first), learners with
open 75-question mocks, and gunicorn with production settings on 127.0.0.1. Client threads then autosave answers
as learners do (each learner changes answers on their own attempt, one request at a time) while the script, in the
middle of the run:

  (a) SIGKILLs a gunicorn worker,
  (b) restarts PostgreSQL itself (`pg_ctlcluster <version> main restart`: only here, never in the test suite),
  (c) terminates every connection the app holds to its database (pg_terminate_backend).

A request that fails must fail cleanly (a refused connection or the app's own error page, never a stack trace);
the app must reconnect by itself; and at the end every slot must hold the last answer the server acknowledged
("Answer saved") for it. Recovery is the time from a fault to the next acknowledged save. The last line:

    faults: injected=<n> requests=<n> failed=<n> acknowledged=<n> lost=<n> recovery_max_ms=<ms>

    .venv/bin/python bench/faults.py [--learners 12] [--seconds 45] [--workers 3]
"""

import argparse
import http.client
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.served import psql, wait_until_up  # noqa: E402 - after the path is set

HOST, PORT = "127.0.0.1", 8765
DB_NAME = "faults_bench"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=12)
    parser.add_argument("--seconds", type=int, default=45)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    psql(f"CREATE DATABASE {DB_NAME}")
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="faults-" + secrets.token_urlsafe(48),
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        CONN_MAX_AGE="60",  # kept connections: the case a restart and a terminate really test
    )
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    learners = prepare(args.learners)
    from django.db import connection

    connection.close()
    log_path = Path(tempfile.gettempdir()) / "faults-gunicorn.log"
    log = log_path.open("w")
    print(f"gunicorn's log (the server side of each fault): {log_path}")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-c",
            "config/gunicorn.conf.py",
            "--bind",
            f"{HOST}:{PORT}",
            "--workers",
            str(args.workers),
            "--access-logfile",
            "/dev/null",
            "--error-logfile",
            "-",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        wait_until_up(HOST, PORT)
        result = run(learners, seconds=args.seconds, server=server)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    lost = check(result["acknowledged_last"])
    print(f"requests by outcome: {dict(sorted(result['outcomes'].items()))}")
    print(f"faults: {', '.join(f'{name} recovered in {ms:.0f} ms' for name, ms in result['recoveries'])}")
    if result["dirty"]:
        print(f"responses with a stack trace: {len(result['dirty'])}")
    print(
        f"faults: injected={len(result['recoveries'])} requests={result['requests']} failed={result['failed']} "
        f"acknowledged={result['acknowledged']} lost={lost + len(result['dirty'])} "
        f"recovery_max_ms={max((ms for _, ms in result['recoveries']), default=0):.0f}"
    )
    psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def prepare(count):
    """A bank of 90 questions, a 75-question mock, and `count` learners each with an open attempt and a session."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from quizapp.accounts.models import User
    from quizapp.exams import services
    from tests.factories import BlueprintFactory, bank_with_questions

    bank = bank_with_questions(per_domain=15, slug="faults-bank")
    mock = BlueprintFactory(bank=bank, slug="mock", title="Mock", question_count=75, duration_minutes=180)
    learners = []
    for n in range(count):
        user = User.objects.create(username=f"faults-{n}", email=f"faults-{n}@example.com")
        attempt = services.attempt_start(user=user, blueprint=mock, now=timezone.now())
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        orders = dict(attempt.slots.values_list("position", "choice_order"))
        learners.append({"session": session.session_key, "attempt": str(attempt.pk), "orders": orders})
    return learners


class Learner:
    """One learner's browser: a session cookie, the CSRF cookie and token, each question page's save token."""

    def __init__(self, data):
        self.data = data
        self.cookies = {"sessionid": data["session"]}
        self.tokens = {}
        self.csrf = None

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection(HOST, PORT, timeout=10)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Host": HOST}
        if body is not None:
            headers.update(
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-CSRFToken": self.csrf or "",
                    "HX-Request": "true",
                    "Referer": f"http://{HOST}:{PORT}/",
                }
            )
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key.strip()] = rest.split(";")[0]
            return response.status, text
        finally:
            conn.close()

    def open_question(self, position):
        status, text = self.request("GET", f"/attempts/{self.data['attempt']}/questions/{position}/")
        if status != 200:
            return False
        self.tokens[position] = re.search(r'name="page" value="([^"]+)"', text).group(1)
        self.csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)
        return True


def run(learners, *, seconds, server):
    state = {
        "requests": 0,
        "failed": 0,
        "acknowledged": 0,
        "outcomes": {},
        "dirty": [],
        "acknowledged_last": {},
        "last_ack_at": 0.0,
    }
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(data, rng):
        learner = Learner(data)
        while time.monotonic() < stop:
            position = rng.randint(1, 75)
            try:
                if position not in learner.tokens and not learner.open_question(position):
                    outcome, text = "page failed", ""
                else:
                    choice = rng.choice(data["orders"][position])
                    body = urlencode({"page": learner.tokens[position], "choice": choice})
                    status, text = learner.request(
                        "POST", f"/attempts/{data['attempt']}/questions/{position}/answer/", body
                    )
                    outcome = str(status)
                    if status == 200 and "Answer saved" in text:
                        with lock:
                            state["acknowledged"] += 1
                            state["acknowledged_last"][(data["attempt"], position)] = choice
                            state["last_ack_at"] = time.monotonic()
            except (OSError, http.client.HTTPException) as error:
                outcome, text = f"connection: {type(error).__name__}", ""
            with lock:
                state["requests"] += 1
                state["outcomes"][outcome] = state["outcomes"].get(outcome, 0) + 1
                if outcome != "200":
                    state["failed"] += 1
                if "Traceback" in text or 'File "' in text:
                    state["dirty"].append(outcome)
            time.sleep(rng.uniform(0.02, 0.1))

    threads = [threading.Thread(target=client, args=(d, random.Random(i))) for i, d in enumerate(learners)]
    for thread in threads:
        thread.start()
    version = psql("SHOW server_version").split(".")[0].strip()
    faults = [
        ("SIGKILL a worker", lambda: kill_a_worker(server)),
        (
            "PostgreSQL restart",
            lambda: subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True, timeout=120
            ),
        ),
        (
            "connections terminated",
            lambda: psql(
                f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{DB_NAME}' "
                "AND pid <> pg_backend_pid()"
            ),
        ),
    ]
    recoveries = []
    gap = seconds / (len(faults) + 1)
    for name, inject in faults:
        time.sleep(gap)
        injected_at = time.monotonic()
        inject()
        while time.monotonic() < stop and state["last_ack_at"] <= injected_at:
            time.sleep(0.01)
        recoveries.append((name, (state["last_ack_at"] - injected_at) * 1000))
    for thread in threads:
        thread.join()
    state["recoveries"] = recoveries
    return state


def kill_a_worker(server):
    children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
    if children:
        os.kill(int(children[0]), signal.SIGKILL)


def check(acknowledged_last):
    """Slots whose stored answer is not the last one the server acknowledged."""
    from django.db import connection

    from quizapp.exams.models import AttemptSlot

    connection.close()
    lost = 0
    stored = {
        (str(a), p): s for a, p, s in AttemptSlot.objects.values_list("attempt_id", "position", "selected_choice_ids")
    }
    for key, choice in acknowledged_last.items():
        if stored.get(key) != [choice]:
            lost += 1
    return lost


if __name__ == "__main__":
    main()
