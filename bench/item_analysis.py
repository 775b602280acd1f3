"""Time the item analysis of a large bank: 500 questions and over 200,000 responses of finished attempts.

Generates the data in a database of its own (a throw-away SQLite file, or DATABASE_URL: give it an empty
database, the script adds a bank to it), with learners of varied ability and items of varied difficulty and
discrimination (a two-parameter logistic model, a few items keyed wrongly), so every figure and flag has
something to find. Each learner finishes their attempts in the order they sit them, and a slot's
is_first_exposure is set as attempt_finish would set it: true in a finished attempt when no attempt the learner
finished before drew the question. Then runs bank_item_analysis several times and prints the median as its last
line:

    item analysis: <questions> questions, <responses> responses, <ms> ms

    .venv/bin/python bench/item_analysis.py [--rounds 5] [--learners 1200] [--seed 7]
"""

import argparse
import hashlib
import math
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

QUESTIONS = 500
DOMAINS = 6
# Each learner sits two full mocks and a quick set, in that order; one in ten has a mock still open.
SITTINGS = [("full", 75), ("full", 75), ("quick", 20)]
BATCH = 5000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--learners", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    scratch = None
    if "DATABASE_URL" not in os.environ:
        scratch = tempfile.mkdtemp(prefix="item-analysis-")
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from quizapp.exams.item_analysis import bank_item_analysis

    try:
        call_command("migrate", verbosity=0)
        start = time.perf_counter()
        bank_id, responses = generate(random.Random(args.seed), learners=args.learners)
        if connection.vendor == "postgresql":
            # Fresh statistics, as autovacuum would gather after a bulk load; without them the planner guesses.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"Database: {connection.vendor}; generated in {time.perf_counter() - start:.1f} s")

        timings = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            items = bank_item_analysis(bank_id)
            timings.append((time.perf_counter() - start) * 1000)
        report(items, timings)
        print(f"item analysis: {len(items)} questions, {responses} responses, {statistics.median(timings):.0f} ms")
    finally:
        connection.close()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def generate(rng, *, learners):
    """Bulk-create a bank, learners and their attempts; returns the bank id and the finished responses."""
    from quizapp.accounts.models import User
    from quizapp.bank.models import Bank, Choice, Domain, Question, QuestionVersion, TaskStatement, Topic
    from quizapp.exams.models import Attempt, AttemptSlot, AttemptState, ExamBlueprint

    tag = f"{time.time_ns():x}"
    bank = Bank.objects.create(slug=f"bench-{tag}", title="Item analysis bench")
    domains = Domain.objects.bulk_create(
        Domain(bank=bank, number=n, name=f"Domain {n}", weight=100 // DOMAINS) for n in range(1, DOMAINS + 1)
    )
    tasks = TaskStatement.objects.bulk_create(
        TaskStatement(domain=d, code=f"{d.number}.1", name="Task") for d in domains
    )
    topic = Topic.objects.create(bank=bank, slug="bench", name="Bench")
    questions = Question.objects.bulk_create(Question(bank=bank, key=f"q-{i:04d}") for i in range(QUESTIONS))
    items = []  # per question: (difficulty, discrimination, multiple, distractor weights)
    versions = []
    for i, question in enumerate(questions):
        multiple = i % 5 == 4
        # Mostly good items; every 40th is keyed wrongly (the strong learners pick the "wrong" option).
        slope = -1.2 if i % 40 == 17 else rng.uniform(0.2, 2.2)
        difficulty = rng.gauss(0, 1.2)
        weights = [rng.choice([0.02, 1, 1, 2]) for _ in range(3)]  # some distractors almost never tempt anyone
        items.append((difficulty, slope, multiple, weights))
        versions.append(
            QuestionVersion(
                question=question,
                number=1,
                domain=domains[i % DOMAINS],
                task=tasks[i % DOMAINS],
                topic=topic,
                kind="multiple" if multiple else "single",
                stem=f"Bench question {i}",
                explanation="Because.",
                content_hash=f"{tag}-{i}",
            )
        )
    versions = QuestionVersion.objects.bulk_create(versions)
    choices = Choice.objects.bulk_create(
        Choice(version=version, position=p, text=f"Option {p}", is_correct=p <= (2 if items[i][2] else 1))
        for i, version in enumerate(versions)
        for p in range(1, (6 if items[i][2] else 5))
    )
    for question, version in zip(questions, versions, strict=True):
        question.current_version = version
    Question.objects.bulk_update(questions, ["current_version"], batch_size=BATCH)
    choice_ids: dict[int, tuple[list[int], list[int]]] = {}
    for choice in choices:
        right, wrong = choice_ids.setdefault(choice.version_id, ([], []))
        (right if choice.is_correct else wrong).append(choice.id)

    blueprints = {
        slug: ExamBlueprint.objects.create(
            bank=bank,
            slug=slug,
            title=slug.title(),
            mode="timed",
            question_count=count,
            duration_minutes=count * 2,
            domain_selection="weighted",
        )
        for slug, count in {"full": 75, "quick": 20}.items()
    }
    users = User.objects.bulk_create(
        User(username=f"bench-{tag}-{n}", email=f"bench-{tag}-{n}@example.com", password="!")  # unusable
        for n in range(learners)
    )
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    attempts, slots, responses = [], [], 0
    for n, user in enumerate(users):
        ability = rng.gauss(0, 1)
        sittings = SITTINGS + ([("full", 75)] if n % 10 == 0 else [])
        seen = set()  # the questions this learner has finished, for is_first_exposure as attempt_finish sets it
        for s, (slug, count) in enumerate(sittings):
            finished = s < len(SITTINGS)
            started = epoch + timedelta(days=n % 300, hours=s * 5, minutes=rng.randrange(60))
            attempt = Attempt(
                user=user,
                blueprint=blueprints[slug],
                mode="timed",
                pass_mark_percent=75,
                state=AttemptState.FINISHED if finished else AttemptState.IN_PROGRESS,
                started_at=started,
                deadline=started + timedelta(minutes=count * 2),
                finished_at=started + timedelta(minutes=count * 2) if finished else None,
                question_count=count,
            )
            correct = 0
            for position, q in enumerate(rng.sample(range(QUESTIONS), count), start=1):
                difficulty, slope, multiple, weights = items[q]
                right, wrong = choice_ids[versions[q].id]
                is_correct = rng.random() < 1 / (1 + math.exp(-slope * (ability - difficulty)))
                if is_correct:
                    selected = list(right)
                elif rng.random() < 0.04:
                    selected = []  # left blank
                elif multiple:
                    selected = [rng.choice(right), rng.choices(wrong, weights)[0]]
                else:
                    selected = rng.choices(wrong, weights)
                correct += is_correct
                first = finished and q not in seen
                if first:
                    seen.add(q)
                slots.append(
                    AttemptSlot(
                        attempt=attempt,
                        position=position,
                        question_version_id=versions[q].id,
                        choice_order=right + wrong,
                        selected_choice_ids=selected,
                        seconds_spent=int(rng.lognormvariate(4 + difficulty / 4, 0.5)),
                        is_correct=is_correct if finished else None,
                        is_first_exposure=first,
                    )
                )
            if finished:
                attempt.correct_count = correct
                responses += count
            attempts.append(attempt)
    Attempt.objects.bulk_create(attempts, batch_size=BATCH)
    AttemptSlot.objects.bulk_create(slots, batch_size=BATCH)
    return bank.pk, responses


def report(items, timings):
    """A few figures to see that the analysis found something, and a digest to compare two databases by."""
    answered = sum(item.answered for item in items)
    flags = {}
    for item in items:
        for flag in item.flags:
            flags[flag] = flags.get(flag, 0) + 1
    # Without database ids, so that the same seed gives the same digest on SQLite and on PostgreSQL.
    figures = [
        (i.key, i.answered, i.facility, i.discrimination, i.discriminative_efficiency, i.median_seconds, i.flags)
        + tuple((o.text, o.is_correct, o.count, o.share) for o in i.option_counts)
        for i in items
    ]
    digest = hashlib.sha256(repr(figures).encode()).hexdigest()[:16]
    print(f"First exposures: {answered}; flags: {dict(sorted(flags.items()))}")
    load = os.getloadavg()[0]
    print(f"Runs (ms): {', '.join(f'{t:.0f}' for t in timings)}; load average {load:.1f}; results digest {digest}")


if __name__ == "__main__":
    main()
