"""Time a big group's results matrix and its proctor view: 200 members, 20 assignments each, one live sitting.

Generates the data in a database of its own (a throw-away SQLite file, or DATABASE_URL: give it an empty database)
and times the pages through Django's test client, as a signed-in instructor, with every middleware:

- the results page (the members × assignments matrix and the per-domain heat map), and
- the proctor partial of a running sitting with every member seated and half-way through a 75-question mock
  (rendered in full each time: the poll's 204 for an unchanged view is cheaper still).

Each member has one finished attempt of each assignment (a 20-question timed set; every fourth assignment a
75-question mock), so the heat map aggregates over the group's whole history. Prints the medians as its last line:

    group results: <members> members, <assignments> assignments, matrix <ms> ms, proctor <ms> ms

    .venv/bin/python bench/group_results.py [--members 200] [--assignments 20] [--rounds 7]
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BATCH = 5000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--assignments", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    scratch = None
    if "DATABASE_URL" not in os.environ:
        scratch = tempfile.mkdtemp(prefix="group-results-")
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()
    try:
        call_command("migrate", verbosity=0)
        start = time.perf_counter()
        group, sitting, slots = generate(random.Random(11), members=args.members, assignments=args.assignments)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"Database: {connection.vendor}; {slots} slots generated in {time.perf_counter() - start:.1f} s")
        client = Client()
        client.force_login(group.owner)
        matrix_url = reverse("groups:results", args=[group.pk])
        proctor_url = reverse("groups:proctor_poll", args=[group.pk, sitting.assignment_id, sitting.pk])
        matrix = timed(client, matrix_url, args.rounds, expect="Members and assignments")
        proctor = timed(client, proctor_url, args.rounds, expect="proctor-live", HTTP_HX_REQUEST="true")
        print(f"results page: median {statistics.median(matrix):.0f} ms, max {max(matrix):.0f} ms")
        print(f"proctor partial: median {statistics.median(proctor):.0f} ms, max {max(proctor):.0f} ms")
        print(
            f"group results: {args.members} members, {args.assignments} assignments, "
            f"matrix {statistics.median(matrix):.0f} ms, proctor {statistics.median(proctor):.0f} ms"
        )
    finally:
        connection.close()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def timed(client, url, rounds, *, expect, **headers):
    client.get(url, **headers)  # warm: templates compiled, connection open
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(url, **headers)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200 and expect in response.content.decode(), response.status_code
    return timings


def generate(rng, *, members, assignments):
    """Bulk-create a bank, a group, its members, assignments and attempts, and a running sitting."""
    from django.utils import timezone

    from quizapp.accounts.models import User
    from quizapp.bank.models import Bank, Choice, Domain, Question, QuestionVersion, TaskStatement, Topic
    from quizapp.exams.models import Attempt, AttemptSlot, AttemptState, ExamBlueprint
    from quizapp.groups.models import Assignment, Membership, Seat, Sitting, StudyGroup

    tag = f"{time.time_ns():x}"
    bank = Bank.objects.create(slug=f"bench-{tag}", title="Group bench", status="published")
    domains = Domain.objects.bulk_create(
        Domain(bank=bank, number=n, name=f"Domain {n}", weight=17) for n in range(1, 7)
    )
    tasks = TaskStatement.objects.bulk_create(TaskStatement(domain=d, code=f"{d.number}.1", name="T") for d in domains)
    topic = Topic.objects.create(bank=bank, slug="bench", name="Bench")
    questions = Question.objects.bulk_create(
        Question(bank=bank, key=f"q-{i:03d}", status="published") for i in range(300)
    )
    versions = QuestionVersion.objects.bulk_create(
        QuestionVersion(
            question=q,
            number=1,
            domain=domains[i % 6],
            task=tasks[i % 6],
            topic=topic,
            kind="single",
            stem=f"Question {i}",
            explanation="Because.",
            content_hash=f"{tag}-{i}",
        )
        for i, q in enumerate(questions)
    )
    choices = Choice.objects.bulk_create(
        Choice(version=v, position=p, text=f"Option {p}", is_correct=p == 1) for v in versions for p in range(1, 5)
    )
    for question, version in zip(questions, versions, strict=True):
        question.current_version = version
    Question.objects.bulk_update(questions, ["current_version"])
    by_version = {}
    for choice in choices:
        by_version.setdefault(choice.version_id, []).append(choice.id)
    quick = ExamBlueprint.objects.create(
        bank=bank,
        slug="quick",
        title="Quick set",
        mode="timed",
        question_count=20,
        duration_minutes=40,
        domain_selection="weighted",
    )
    mock = ExamBlueprint.objects.create(
        bank=bank,
        slug="mock",
        title="Mock",
        mode="timed",
        question_count=75,
        duration_minutes=180,
        domain_selection="weighted",
    )
    owner = User.objects.create(username=f"teacher-{tag}", email=f"teacher-{tag}@example.com", role="instructor")
    group = StudyGroup.objects.create(owner=owner, name="Bench cohort")
    users = User.objects.bulk_create(
        User(username=f"m-{tag}-{n:03d}", email=f"m-{tag}-{n}@example.com", password="!") for n in range(members)
    )
    Membership.objects.bulk_create(Membership(group=group, user=u) for u in users)
    now = timezone.now()
    made = Assignment.objects.bulk_create(
        Assignment(
            group=group,
            blueprint=mock if a % 4 == 3 else quick,
            opens_at=now - timedelta(days=7 * (assignments - a)),
            closes_at=now - timedelta(days=7 * (assignments - a) - 6),
            attempt_limit=2,
        )
        for a in range(assignments)
    )
    live = Assignment.objects.create(
        group=group, blueprint=mock, opens_at=now - timedelta(hours=1), closes_at=now + timedelta(hours=4)
    )
    attempts, slots = [], []

    def attempt_with_slots(user, assignment, *, started, finished, answered):
        count = assignment.blueprint.question_count
        attempt = Attempt(
            user=user,
            blueprint=assignment.blueprint,
            mode="timed",
            pass_mark_percent=75,
            context=f"assignment:{assignment.pk}",
            state=AttemptState.FINISHED if finished else AttemptState.IN_PROGRESS,
            started_at=started,
            deadline=started + timedelta(minutes=assignment.blueprint.duration_minutes),
            finished_at=started + timedelta(minutes=30) if finished else None,
            question_count=count,
            current_position=answered or 1,
            position_entered_at=started + timedelta(minutes=answered),
        )
        correct = 0
        for position, q in enumerate(rng.sample(range(300), count), start=1):
            options = by_version[versions[q].pk]
            is_correct = rng.random() < 0.68
            picked = [options[0]] if is_correct else [rng.choice(options[1:])]
            correct += is_correct
            slots.append(
                AttemptSlot(
                    attempt=attempt,
                    position=position,
                    question_version_id=versions[q].pk,
                    choice_order=options,
                    selected_choice_ids=picked if position <= answered else [],
                    answered_at=started + timedelta(minutes=position) if position <= answered else None,
                    flagged=position % 9 == 0,
                    is_correct=is_correct if finished else None,
                )
            )
        attempt.correct_count = correct if finished else None
        attempts.append(attempt)
        return attempt

    for user in users:
        for assignment in made:
            attempt_with_slots(
                user,
                assignment,
                started=assignment.opens_at + timedelta(days=1),
                finished=True,
                answered=assignment.blueprint.question_count,
            )
    sitting = Sitting.objects.create(
        assignment=live, state="running", opened_at=now - timedelta(minutes=50), started_at=now - timedelta(minutes=45)
    )
    seated = [attempt_with_slots(u, live, started=sitting.started_at, finished=False, answered=37) for u in users]
    Attempt.objects.bulk_create(attempts, batch_size=BATCH)
    AttemptSlot.objects.bulk_create(slots, batch_size=BATCH)
    Seat.objects.bulk_create(
        Seat(sitting=sitting, user=u, joined_at=sitting.opened_at, attempt=a)
        for u, a in zip(users, seated, strict=True)
    )
    return group, sitting, len(slots)


if __name__ == "__main__":
    main()
