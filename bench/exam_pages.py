"""Time the exam engine's hot paths on a full 75-question mock drawn from the shipped bank.

Prints median and 95th-percentile milliseconds and the query count per request for: starting a mock, the
question page, an autosave (HTMX), the review screen, submitting, the result (the score report) and the answers page
(the question-by-question review). Runs in-process with
Django's test client against a throw-away SQLite file (or DATABASE_URL), so it measures the app, not a network.

    make bench                       # or: .venv/bin/python bench/exam_pages.py [--rounds 200]
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from quizapp.accounts.services import user_create
    from quizapp.exams.models import Attempt

    call_command("migrate", verbosity=0)
    call_command("load_bank", verbosity=0, stdout=io.StringIO())
    user = user_create(username=f"bench{time.time_ns()}", email=f"b{time.time_ns()}@example.com", password="x" * 12)
    client = Client()
    client.force_login(user)

    def measure(label, make_request, rounds):
        timings, queries = [], 0
        for i in range(rounds):
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                response = make_request(i)
                timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code in (200, 302), (label, response.status_code)
            queries = len(ctx.captured_queries)
        timings.sort()
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        print(f"{label:<28} median {statistics.median(timings):7.2f} ms   p95 {p95:7.2f} ms   {queries:3d} queries")

    print(f"Database: {connection.vendor}; {args.rounds} rounds per page; 75-question full mock\n")
    attempts = []

    def start(i):
        response = client.post("/exams/dop-c02/full-mock/")
        attempts.append(Attempt.objects.filter(user=user).open().get())
        if i < 9:  # finish all but the last so that the next start draws a fresh attempt
            client.post(f"/attempts/{attempts[-1].pk}/submit/")
        return response

    measure("start a full mock", start, 10)
    attempt = attempts[-1]
    slots = list(attempt.slots.order_by("position"))
    measure("question page", lambda i: client.get(f"/attempts/{attempt.pk}/questions/{1 + i % 75}/"), args.rounds)
    measure(
        "autosave (HTMX)",
        lambda i: client.post(
            f"/attempts/{attempt.pk}/questions/{1 + i % 75}/answer/",
            {"choice": slots[i % 75].choice_order[0]},
            HTTP_HX_REQUEST="true",
        ),
        args.rounds,
    )
    measure("review screen", lambda i: client.get(f"/attempts/{attempt.pk}/review/"), args.rounds)
    measure("submit", lambda i: client.post(f"/attempts/{attempt.pk}/submit/"), 1)
    measure("result (score report)", lambda i: client.get(f"/attempts/{attempt.pk}/result/"), args.rounds // 4)
    measure("answers (75 reviewed)", lambda i: client.get(f"/attempts/{attempt.pk}/answers/"), args.rounds // 4)


if __name__ == "__main__":
    main()
