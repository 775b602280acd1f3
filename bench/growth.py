"""Does the app stay fast as the database grows? Pages timed on an empty database and on a full one.

Loads the shipped bank into a database of its own (a throw-away SQLite file, or DATABASE_URL: give it an empty
database), times a learner's pages there, then bulk-creates 1,000 learners with 20,000 finished 75-question
attempts (1.5 million answers) and times the same pages again, through Django's test client in process:

- starting the full mock (queries and time: the draw must read only the learner's own history),
- the learner's home page (dashboard, computed and cached),
- an attempt's report (the result page of a finished mock),
- the bank's question list in the studio (an instructor's first page of 25).

Target (issue 11): each within 2× of its time on the empty database. The last line:

    growth: learners=<n> attempts=<n> answers=<n> start=<ms>/<ms> home=<ms>/<ms> report=<ms>/<ms> questions=<ms>/<ms>

(full/empty medians). Generating 1.5 million answers takes a few minutes; `--learners` and `--attempts` shrink it.

    .venv/bin/python bench/growth.py [--learners 1000] [--attempts 20] [--rounds 9]
"""

import argparse
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BATCH = 20000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--attempts", type=int, default=20, help="finished mocks per learner")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    scratch = None
    if "DATABASE_URL" not in os.environ:
        scratch = tempfile.mkdtemp(prefix="growth-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")

    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from quizapp.accounts.models import User
    from quizapp.exams import services
    from quizapp.exams.models import Attempt, ExamBlueprint

    try:
        call_command("migrate", verbosity=0)
        call_command("load_bank", verbosity=0, stdout=io.StringIO())
        mock = ExamBlueprint.objects.get(slug="full-mock")
        teacher = User.objects.create(username="growth-teacher", email="t@example.com", is_staff=True)

        def pages(label):
            """Medians of each page for a fresh learner with two finished mocks of their own."""
            learner = User.objects.create(username=f"growth-{label}", email=f"growth-{label}@example.com")
            for _ in range(2):
                attempt = services.attempt_start(user=learner, blueprint=mock, now=datetime.now(UTC))
                services.attempt_finish(attempt_id=attempt.pk, now=datetime.now(UTC))
            client, studio = Client(), Client()
            client.force_login(learner)
            studio.force_login(teacher)
            report = reverse("exams:result", args=[attempt.pk])
            questions = reverse("studio:bank", args=[mock.bank.slug])
            figures = {}
            starts, start_queries = [], 0
            for _ in range(args.rounds):
                with CaptureQueriesContext(connection) as captured:
                    begin = time.perf_counter()
                    started = services.attempt_start(user=learner, blueprint=mock, now=datetime.now(UTC))
                    starts.append((time.perf_counter() - begin) * 1000)
                start_queries = len(captured)
                Attempt.objects.filter(pk=started.pk).delete()  # the next round starts afresh
            figures["start"] = statistics.median(starts)
            for name, who, url, clear in (
                ("home", client, "/", True),
                ("report", client, report, False),
                ("questions", studio, questions, False),
            ):
                who.get(url)
                timings = []
                for _ in range(args.rounds):
                    if clear:
                        cache.clear()  # the dashboard's figures computed every time: the harder case
                    begin = time.perf_counter()
                    response = who.get(url)
                    timings.append((time.perf_counter() - begin) * 1000)
                    assert response.status_code == 200, (name, response.status_code)
                figures[name] = statistics.median(timings)
            load = os.getloadavg()[0]
            print(
                f"{label:<5}: start {figures['start']:.1f} ms ({start_queries} queries), "
                f"home {figures['home']:.1f} ms, report {figures['report']:.1f} ms, "
                f"questions {figures['questions']:.1f} ms; load {load:.2f}",
                file=sys.stderr,
            )
            return figures, start_queries

        empty, empty_queries = pages("empty")
        begin = time.perf_counter()
        attempts, answers = generate(random.Random(3), mock=mock, learners=args.learners, per_learner=args.attempts)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(
            f"{connection.vendor}: generated {answers} answers in {time.perf_counter() - begin:.0f} s", file=sys.stderr
        )
        full, full_queries = pages("full")
        assert full_queries == empty_queries, "a start reads more as the history grows"
        pairs = " ".join(
            f"{name}={full[name]:.0f}/{empty[name]:.0f}" for name in ("start", "home", "report", "questions")
        )
        print(f"growth: learners={args.learners} attempts={attempts} answers={answers} {pairs}")
    finally:
        connection.close()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def generate(rng, *, mock, learners, per_learner):
    """Bulk-create learners and their finished mocks on the shipped bank, 75 answers each."""
    from quizapp.accounts.models import User
    from quizapp.bank.models import Choice, Question
    from quizapp.exams.models import Attempt, AttemptSlot, AttemptState

    versions = list(Question.objects.published().filter(bank=mock.bank).values_list("current_version_id", flat=True))
    right, wrong = {}, {}
    for version_id, choice_id, is_correct in Choice.objects.filter(version_id__in=versions).values_list(
        "version_id", "id", "is_correct"
    ):
        (right if is_correct else wrong).setdefault(version_id, []).append(choice_id)
    tag = f"{time.time_ns():x}"
    users = User.objects.bulk_create(
        User(username=f"g-{tag}-{n}", email=f"g-{tag}-{n}@example.com", password="!") for n in range(learners)
    )
    now = datetime.now(UTC)
    total_attempts = total_answers = 0
    for chunk_start in range(0, len(users), 50):  # bounded memory: 50 learners' attempts at a time
        attempts, slots = [], []
        for user in users[chunk_start : chunk_start + 50]:
            for s in range(per_learner):
                started = now - timedelta(days=rng.randint(1, 365), hours=s)
                attempt = Attempt(
                    user=user,
                    blueprint=mock,
                    mode="timed",
                    pass_mark_percent=75,
                    state=AttemptState.FINISHED,
                    started_at=started,
                    deadline=started + timedelta(minutes=180),
                    finished_at=started + timedelta(minutes=rng.randint(60, 180)),
                    finish_reason="submitted",
                    question_count=75,
                )
                correct = 0
                for position, version_id in enumerate(rng.sample(versions, 75), start=1):
                    is_correct = rng.random() < 0.65
                    slots.append(
                        AttemptSlot(
                            attempt=attempt,
                            position=position,
                            question_version_id=version_id,
                            choice_order=right[version_id] + wrong[version_id],
                            selected_choice_ids=right[version_id] if is_correct else wrong[version_id][:1],
                            answered_at=attempt.finished_at,
                            seconds_spent=rng.randint(30, 300),
                            is_correct=is_correct,
                            is_first_exposure=s == 0,
                        )
                    )
                    correct += is_correct
                attempt.correct_count = correct
                attempts.append(attempt)
        Attempt.objects.bulk_create(attempts, batch_size=BATCH)
        AttemptSlot.objects.bulk_create(slots, batch_size=BATCH)
        total_attempts += len(attempts)
        total_answers += len(slots)
    return total_attempts, total_answers


if __name__ == "__main__":
    main()
