"""Locust users for the load benchmark: a group sitting (`Sitting`) and the capacity step-up (`Probe`).

Run by `bench/load/run.py`, which sets up the server and writes the schedule this file reads (LOAD_SCHEDULE, a JSON
file of wall-clock times, so that every learner of one run starts and submits in the same window). Each user is a
browser: its own cookie jar, the CSRF token of the page it is on, the save token of each question page. Every
request is recorded raw (name, start, response time, ok) and every acknowledged answer is written down, to JSON
lines files named by process, which run.py reads for the table and the integrity check. Every loop is bounded in
count and by the schedule's end, and the last user to finish stops the run.
"""

import itertools
import json
import os
import random
import re
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import gevent
from locust import constant, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

SCHEDULE = json.loads(Path(os.environ["LOAD_SCHEDULE"]).read_text()) if "LOAD_SCHEDULE" in os.environ else {}
RECORD_DIR = SCHEDULE.get("record_dir", ".")
PID = os.getpid()
SAVE_TRIES = 5  # a failed autosave (no response, or a 5xx) is sent again after 1 s, up to this many times in all
MAX_QUESTIONS = 400  # per learner: far more than 3 hours of compressed pace could reach; a bound, not a target

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PAGE_INPUT = re.compile(r'name="page" value="([^"]+)"')
CHOICE_INPUT = re.compile(r'<input type="(checkbox|radio)" name="choice" value="(\d+)"')
ATTEMPT_PATH = re.compile(r"^/attempts/([0-9a-f-]{36})/")
POLL_URL = re.compile(r'hx-get="([^"]+\?v=[^"]*)"')
POLL_SECONDS = 3  # the lobby's and the proctor table's hx-trigger="every 3s"

numbers = {"Sitting": itertools.count(), "Probe": itertools.count(), "Instructor": itertools.count()}
finished = {"Sitting": 0, "Probe": 0, "Instructor": 0}
samples = []
acks = []
failed_kinds = set()


@events.request.add_listener
def record_request(request_type, name, response_time, response_length, exception, start_time=None, **kwargs):
    samples.append((name, start_time or time.time(), response_time, exception is None))


@events.quitting.add_listener
def write_records(environment, **kwargs):
    with open(os.path.join(RECORD_DIR, f"samples-{PID}.jsonl"), "w") as out:
        for sample in samples:
            out.write(json.dumps(sample) + "\n")
    with open(os.path.join(RECORD_DIR, f"acks-{PID}.jsonl"), "w") as out:
        for ack in acks:
            out.write(json.dumps(ack) + "\n")


def sleep_until(moment):
    """Sleep until a wall-clock moment of the schedule (never past its end)."""
    delay = min(moment, SCHEDULE["end_at"]) - time.time()
    if delay > 0:
        gevent.sleep(delay)


class Browser(FastHttpUser):
    """What both users share: log in through the form, start the exam through its form, read a question page."""

    abstract = True
    wait_time = constant(0)
    network_timeout = 60.0
    connection_timeout = 60.0

    def on_start(self):
        kind = type(self).__name__
        self.number = next(numbers[kind])
        self.username = SCHEDULE["instructor"] if kind == "Instructor" else f"{SCHEDULE['prefix'][kind]}{self.number}"
        self.rng = random.Random(f"{kind}-{self.number}")
        self.csrf = ""
        self.pages = {}  # position -> (save token, arrival time, input type, choice ids)
        self.attempt = None
        self.late_page = None

    def done(self):
        finished[type(self).__name__] += 1
        if all(finished[kind] >= SCHEDULE["users"].get(kind, 0) for kind in finished):
            gevent.spawn_later(1, self.environment.runner.quit)
        raise StopUser()

    def expect(self, response, status, text=None):
        if response.status_code != status:
            response.failure(f"HTTP {response.status_code}, expected {status}")
            return False
        if text and text not in (response.text or ""):
            response.failure(f"no {text!r} in the response")
            return False
        response.success()
        return True

    def post(self, path, data, name, *, htmx=False, **kwargs):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if htmx:
            headers.update({"X-CSRFToken": self.csrf, "HX-Request": "true"})
        body = urlencode(data, doseq=True)
        return self.client.post(path, data=body, name=name, headers=headers, catch_response=True, **kwargs)

    def log_in(self, login_name="login", landing=None, landing_name="lobby (exam page)", landing_text="Start"):
        """Log in through the form and land on `landing` (the exam's page by default); keep its CSRF token."""
        exam = landing or SCHEDULE["exam_path"]
        with self.client.get(f"/accounts/login/?next={exam}", name="login page", catch_response=True) as response:
            if not self.expect(response, 200):
                return False
            self.csrf = CSRF_INPUT.search(response.text).group(1)
        data = {
            "username": self.username,
            "password": SCHEDULE["password"],
            "next": exam,
            "csrfmiddlewaretoken": self.csrf,
        }
        with self.post("/accounts/login/", data, login_name, allow_redirects=False) as response:
            if not self.expect(response, 302):
                return False
        with self.client.get(exam, name=landing_name, catch_response=True) as response:
            late = ATTEMPT_PATH.match(urlsplit(response.url or "").path) if landing_text != "Start" else None
            if late:  # the sitting started before this learner arrived: the lobby sent them into the exam
                self.attempt = late.group(1)
                self.late_page = response.text
            if not self.expect(response, 200, None if late else landing_text):
                return False
            self.csrf = CSRF_INPUT.search(response.text).group(1)
            poll = POLL_URL.search(response.text)
            self.poll_url = poll.group(1).replace("&amp;", "&") if poll else None
        return True

    def poll(self, name, redirect_name=None):
        """One htmx poll with the page's version token: 204 while unchanged, the fresh part (and its new token)
        when something changed; returns the response's HX-Redirect, if any (recorded as `redirect_name`)."""
        headers = {"HX-Request": "true"}
        with self.client.get(self.poll_url, name=name, headers=headers, catch_response=True) as response:
            if response.status_code == 204:
                response.success()
                return None
            if not self.expect(response, 200):
                return None
            redirect = response.headers.get("HX-Redirect")
            if redirect and redirect_name:
                response.request_meta["name"] = redirect_name
            fresh = POLL_URL.search(response.text or "")
            if fresh:
                self.poll_url = fresh.group(1).replace("&amp;", "&")
            return redirect

    def start_exam(self, name="start"):
        data = {"csrfmiddlewaretoken": self.csrf}
        with self.post(SCHEDULE["exam_path"], data, name, allow_redirects=False) as response:
            match = ATTEMPT_PATH.match(response.headers.get("Location", "")) if response.status_code == 302 else None
            if not match:
                response.failure(f"HTTP {response.status_code}, expected a redirect to the attempt")
                return False
            response.success()
            self.attempt = match.group(1)
        return True

    def open_question(self, position, name="question page", path=None):
        path = path or f"/attempts/{self.attempt}/questions/{position}/"
        with self.client.get(path, name=name, catch_response=True) as response:
            if not self.expect(response, 200):
                return False
            if not self.read_question(position, response.text):
                response.failure("the question page has no answer form")
                return False
        return True

    def read_question(self, position, text):
        """Keep what the question page's form holds: its CSRF token, save token and the choices' ids."""
        token, csrf, choices = PAGE_INPUT.search(text), CSRF_INPUT.search(text), CHOICE_INPUT.findall(text)
        if not (token and csrf and choices):
            return False
        self.csrf = csrf.group(1)
        self.pages[position] = (token.group(1), time.monotonic(), choices[0][0], [int(c) for _, c in choices])
        return True

    def save(self, position, name="autosave"):
        """Autosave a new answer to a question whose page is open; write it down if the server says it is saved."""
        token, arrived, kind, choice_ids = self.pages[position]
        count = 2 if kind == "checkbox" else 1
        chosen = sorted(self.rng.sample(choice_ids, count))
        data = {"page": token, "elapsed": str(int((time.monotonic() - arrived) * 1000)), "choice": chosen}
        path = f"/attempts/{self.attempt}/questions/{position}/answer/"
        for _ in range(SAVE_TRIES):  # as the exam page does: a save that got no answer is sent again
            with self.post(path, data, name, htmx=True) as response:
                if self.expect(response, 200, "Answer saved"):
                    acks.append({"attempt": self.attempt, "position": position, "choices": chosen})
                    return
                if response.status_code and response.status_code < 500:
                    return  # refused (409, 400): the page names it; sending it again would not change that
            gevent.sleep(1)


class Sitting(Browser):
    """One learner of the group: lobby, start, answering at the compressed pace, submit, result."""

    def pause(self):
        """Between actions, a uniformly random 2–4 s; False once the answering phase is over."""
        gevent.sleep(self.rng.uniform(2, 4))
        return time.time() < SCHEDULE["submit_at"]

    def wait_in_the_lobby(self):
        """Poll the lobby as its page does until the instructor starts; the poll that answers with the exam's
        address started this learner's attempt (its time is the start's). Then open the exam as the page does."""
        if self.late_page is not None:  # arrived after the start: already on question 1
            return self.read_question(1, self.late_page)
        while time.time() < SCHEDULE["start_at"] + 60:
            gevent.sleep(POLL_SECONDS)
            redirect = self.poll("lobby poll", redirect_name="start")
            match = ATTEMPT_PATH.match(redirect or "")
            if match:
                self.attempt = match.group(1)
                return self.open_question(1, path=redirect)  # /attempts/<id>/ sends the page to question 1
        return False

    @task
    def sit(self):
        sleep_until(SCHEDULE["lobby_at"] + self.rng.uniform(0, SCHEDULE["lobby_seconds"]))
        lobby = {"landing": SCHEDULE["lobby_path"], "landing_name": "lobby", "landing_text": "Waiting for your"}
        if not self.log_in(**lobby) or not self.wait_in_the_lobby():
            self.done()
        for n, position in enumerate(
            itertools.islice(itertools.cycle(range(1, SCHEDULE["question_count"] + 1)), MAX_QUESTIONS)
        ):
            if time.time() >= SCHEDULE["submit_at"] or (n and not self.open_question(position)):
                break
            if not self.pause():
                break
            self.save(position)
            if self.rng.random() < 0.25:  # a changed answer
                if not self.pause():
                    break
                self.save(position)
            if self.rng.random() < 0.1:
                if not self.pause():
                    break
                path = f"/attempts/{self.attempt}/questions/{position}/flag/"
                with self.post(path, {"flagged": "1"}, "flag", htmx=True) as response:
                    self.expect(response, 200)
            if self.rng.random() < 0.1:  # the baseline, under the same load
                if not self.pause():
                    break
                with self.client.get("/bench/bare/", name="bare GET", catch_response=True) as response:
                    self.expect(response, 200, "ok GET")
                with self.post("/bench/bare/", {}, "bare POST", htmx=True) as response:
                    self.expect(response, 200, "ok POST")
            if not self.pause():
                break
        sleep_until(SCHEDULE["submit_at"] + self.rng.uniform(0, 5))
        path = f"/attempts/{self.attempt}/submit/"
        with self.post(path, {"csrfmiddlewaretoken": self.csrf}, "submit", allow_redirects=False) as response:
            submitted = self.expect(response, 302)
        if submitted:
            acks.append({"attempt": self.attempt, "submitted": True})
            with self.client.get(f"/attempts/{self.attempt}/result/", name="result", catch_response=True) as response:
                self.expect(response, 200)
        self.done()


class Instructor(Browser):
    """The group's instructor: opens the proctor page during the lobby, watches it (its 3 s poll), starts the
    sitting for everyone at the start moment, and keeps watching until the submits."""

    fixed_count = 1

    @task
    def proctor(self):
        sleep_until(SCHEDULE["lobby_at"])
        page = {"landing": SCHEDULE["proctor_path"], "landing_name": "proctor", "landing_text": "Start for everyone"}
        if not self.log_in("instructor login", **page):
            self.done()
        while time.time() < SCHEDULE["start_at"]:
            gevent.sleep(min(POLL_SECONDS, max(0.01, SCHEDULE["start_at"] - time.time())))
            self.poll("proctor poll")
        path = SCHEDULE["proctor_path"] + "start/"
        with self.post(path, {"csrfmiddlewaretoken": self.csrf}, "instructor start", allow_redirects=False) as response:
            self.expect(response, 302)
        while time.time() < SCHEDULE["submit_at"]:
            gevent.sleep(POLL_SECONDS)
            self.poll("proctor poll")
        self.done()


class Probe(Browser):
    """The capacity step-up: bare POSTs and autosaves at stepped rates, one kind at a time, alternating.

    Each probe learner logs in, starts the mock and opens its first few question pages, then, in each step of
    the schedule, sends its share of the step's rate, evenly paced. A kind that failed two steps in a row (under
    95 % of the rate delivered, p95 over 100 ms, or an error) takes no higher step (the monitor below decides
    once per step): one failed step can be a blip of the shared machine, two in a row are the kind's limit.
    """

    @task
    def probe(self):
        if not (self.log_in("probe login") and self.start_exam("probe start")):
            self.done()
        positions = list(range(1, 6))
        for position in positions:
            if not self.open_question(position, name="probe question page"):
                self.done()
        users = SCHEDULE["users"]["Probe"]
        for step in SCHEDULE["steps"]:
            if step["kind"] in failed_kinds:
                continue
            sleep_until(step["from"])
            interval = users / step["rate"]
            moment = step["from"] + self.rng.uniform(0, interval)
            name = f"probe {step['kind']} @{step['rate']}/s"
            for n in itertools.count():
                sleep_until(moment)
                if time.time() >= step["to"]:
                    break
                if step["kind"] == "bare POST":
                    with self.post("/bench/bare/", {}, name, htmx=True) as response:
                        self.expect(response, 200, "ok POST")
                else:
                    self.save(positions[n % len(positions)], name=name)
                moment += interval
        self.done()


@events.test_start.add_listener
def watch_steps(environment, **kwargs):
    """Mark a kind as past its capacity when two of its steps in a row fail: under 95 % of the step's rate
    delivered (the server could not keep up: each learner waits for its answer), p95 over 100 ms, or an error."""
    steps = SCHEDULE.get("steps")
    if not steps:
        return
    missed = {}

    def judge():
        for step in steps:
            sleep_until(step["to"] + 0.5)
            if step["kind"] in failed_kinds:
                continue
            entry = environment.stats.entries.get((f"probe {step['kind']} @{step['rate']}/s", "POST"))
            delivered = entry is not None and entry.num_requests >= 0.95 * step["rate"] * (step["to"] - step["from"])
            if not delivered or entry.num_failures or entry.get_response_time_percentile(0.95) > 100:
                missed[step["kind"]] = missed.get(step["kind"], 0) + 1
                if missed[step["kind"]] >= 2:
                    failed_kinds.add(step["kind"])
            else:
                missed[step["kind"]] = 0

    gevent.spawn(judge)
