"""Time the learner's dashboard on a database of 1,000 learners, one of them with 200 attempts (15,000 answers).

Loads the shipped bank into a database of its own (a throw-away SQLite file, or DATABASE_URL: give it an empty
database), bulk-creates the learners and their finished attempts (the heavy learner's review cards come from the
same service the attempt_finished signal runs), then requests the dashboard through Django's test client, in
process, for the heavy learner and for a learner with no attempts. The dashboard's figures are cached until the
next finished attempt, so it times both: every view computing them ("cold", the first view after an attempt)
and the views that follow ("warm"). The last line is the warm medians:

    dashboard: <attempts> attempts, <answers> answers, <ms> ms (empty: <ms> ms)

    .venv/bin/python bench/dashboard.py [--rounds 30] [--learners 1000] [--seed 7]
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

HEAVY_ATTEMPTS = 200
QUESTIONS_PER_ATTEMPT = 75
OTHER_ATTEMPTS = 2  # each other learner: two full mocks
BATCH = 5000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    scratch = None
    if "DATABASE_URL" not in os.environ:
        scratch = tempfile.mkdtemp(prefix="dashboard-bench-")
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

    try:
        call_command("migrate", verbosity=0)
        start = time.perf_counter()
        call_command("load_bank", verbosity=0, stdout=io.StringIO())
        heavy, empty, attempts, answers = generate(random.Random(args.seed), learners=args.learners)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"Database: {connection.vendor}; generated in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        load = os.getloadavg()
        print(f"Load average before timing: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", file=sys.stderr)

        def measure(user, *, cold):
            client = Client()
            client.force_login(user)
            client.get("/")  # warm up templates and the connection
            timings, queries = [], 0
            for _ in range(args.rounds):
                if cold:
                    cache.clear()
                with CaptureQueriesContext(connection) as ctx:
                    begin = time.perf_counter()
                    response = client.get("/")
                    timings.append((time.perf_counter() - begin) * 1000)
                assert response.status_code == 200, response.status_code
                queries = len(ctx.captured_queries)
            return statistics.median(timings), queries

        figures = {}
        for label, user in (("heavy", heavy), ("empty", empty)):
            for cold in (True, False):
                figures[label, cold] = measure(user, cold=cold)
                ms, queries = figures[label, cold]
                print(
                    f"{label:<5} {'cold' if cold else 'warm'}: median {ms:6.1f} ms, {queries} queries", file=sys.stderr
                )
        print(
            f"dashboard: {attempts} attempts, {answers} answers, {figures['heavy', False][0]:.0f} ms "
            f"(empty: {figures['empty', False][0]:.0f} ms)"
        )
    finally:
        connection.close()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def generate(rng, *, learners):
    """Bulk-create learners and finished attempts on the shipped bank; returns (heavy, empty, attempts, answers)."""
    from quizapp.accounts.models import User
    from quizapp.bank.models import Choice, Question
    from quizapp.exams.models import Attempt, AttemptSlot, AttemptState, ExamBlueprint
    from quizapp.exams.practice_sets import practice_blueprint
    from quizapp.progress.review import review_cards_update

    mock = ExamBlueprint.objects.get(slug="full-mock")
    practice = practice_blueprint(mock.bank)
    versions = list(
        Question.objects.published()
        .filter(bank=mock.bank)
        .values_list("current_version_id", "current_version__domain__number")
    )
    right: dict[int, list[int]] = {}
    wrong: dict[int, list[int]] = {}
    for version_id, choice_id, is_correct in Choice.objects.filter(version_id__in=[v for v, _ in versions]).values_list(
        "version_id", "id", "is_correct"
    ):
        (right if is_correct else wrong).setdefault(version_id, []).append(choice_id)
    tag = f"{time.time_ns():x}"
    users = User.objects.bulk_create(
        User(username=f"bench-{tag}-{n}", email=f"bench-{tag}-{n}@example.com", password="!") for n in range(learners)
    )
    heavy, empty = users[0], users[1]
    now = datetime.now(UTC)
    attempts, slots = [], []

    def sit(user, started, blueprint, skill):
        attempt = Attempt(
            user=user,
            blueprint=blueprint,
            mode=blueprint.mode,
            pass_mark_percent=75,
            state=AttemptState.FINISHED,
            started_at=started,
            deadline=started + timedelta(minutes=180) if blueprint.mode == "timed" else None,
            finished_at=started + timedelta(minutes=rng.randint(60, 180)),
            finish_reason=Attempt.FinishReason.SUBMITTED,
            question_count=QUESTIONS_PER_ATTEMPT,
            context="" if blueprint.mode == "timed" else "smart-drill",
        )
        correct = 0
        for position, (version_id, domain) in enumerate(rng.sample(versions, QUESTIONS_PER_ATTEMPT), start=1):
            is_correct = rng.random() < skill - (0.15 if domain in (3, 5) else 0)
            order = right[version_id] + wrong[version_id]
            rng.shuffle(order)
            slots.append(
                AttemptSlot(
                    attempt=attempt,
                    position=position,
                    question_version_id=version_id,
                    choice_order=order,
                    selected_choice_ids=list(right[version_id]) if is_correct else wrong[version_id][:1],
                    answered_at=attempt.finished_at,
                    seconds_spent=int(rng.lognormvariate(4.5, 0.5)),
                    is_correct=is_correct,
                )
            )
            correct += is_correct
        attempt.correct_count = correct
        attempts.append(attempt)

    for i in range(HEAVY_ATTEMPTS):  # one every ~day for 200 days, getting better; one in five a drill
        started = now - timedelta(days=HEAVY_ATTEMPTS - i, hours=rng.randint(0, 8))
        sit(heavy, started, practice if i % 5 == 4 else mock, 0.5 + 0.3 * i / HEAVY_ATTEMPTS)
    for user in users[2:]:
        for s in range(OTHER_ATTEMPTS):
            sit(user, now - timedelta(days=rng.randint(1, 300), hours=s), mock, rng.uniform(0.4, 0.9))
    Attempt.objects.bulk_create(attempts, batch_size=BATCH)
    AttemptSlot.objects.bulk_create(slots, batch_size=BATCH)
    for attempt in sorted(attempts[:HEAVY_ATTEMPTS], key=lambda a: a.finished_at):
        review_cards_update(attempt=attempt)
    return heavy, empty, HEAVY_ATTEMPTS, HEAVY_ATTEMPTS * QUESTIONS_PER_ATTEMPT


if __name__ == "__main__":
    main()
