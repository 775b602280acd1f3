"""The dashboard: charts with their tables, weakest areas, what is due, this week; the history, its filters and
CSV; each learner sees only their own data."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from quizapp.exams.models import Attempt
from quizapp.progress import review
from tests.factories import BlueprintFactory

from .helpers import domain_of, take

pytestmark = pytest.mark.django_db


@pytest.fixture
def mock(bank):
    return BlueprintFactory(bank=bank, slug="mock", title="Mock", question_count=12, duration_minutes=30)


def test_anonymous_sees_the_landing_page(client):
    response = client.get("/")
    assert b"Create a free account" in response.content


def test_a_new_learner_gets_an_empty_dashboard_that_says_what_to_do(learner_client, bank):
    response = learner_client.get("/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "What is due" in text
    assert "nothing due today" in text
    assert "Not enough data yet" in text


def test_the_dashboard_charts_scores_with_the_pass_mark_and_a_table(learner, learner_client, mock, bank):
    now = timezone.now()
    take(learner, mock, now=now - timedelta(days=3), right=lambda s: domain_of(s) != 3)
    take(learner, mock, now=now - timedelta(days=1), right=lambda s: True, seed=2)
    learner_client.get("/")  # the second view comes from the cache, unescaped
    text = learner_client.get("/").content.decode()
    assert 'role="img"' in text and '<title id="timed-chart-title">Score per timed exam or set, 2 attempts' in text
    assert ">Pass</text>" in text and ">75%</text>" in text
    assert text.count('class="chart-point') >= 2
    assert 'aria-label="Timed scores as a table"' in text
    # Domain 3 was answered wrong in the first attempt: it leads the weakest domains, with a drill link.
    weak = text[text.index('id="weak-domains"') :]
    first = weak[: weak.index("</li>")]
    assert "Domain name 3" in first
    assert reverse("progress:domain_drill", args=[bank.domains.get(number=3).pk]) in first
    assert "Accuracy by domain, week by week" in text


def test_drills_are_charted_apart_from_timed_attempts(learner, learner_client, practice_blueprint, mock, bank):
    now = timezone.now()
    take(learner, mock, now=now, right=lambda s: True)
    take(learner, practice_blueprint, now=now, right=lambda s: False, domain=bank.domains.first())
    text = learner_client.get("/").content.decode()
    assert "Score per timed exam or set, 1 attempt" in text
    assert "Score per practice drill, 1 attempt" in text


def test_time_studied_this_week(learner, learner_client, mock):
    take(learner, mock, now=timezone.now(), right=lambda s: True, seconds=100)
    text = learner_client.get("/").content.decode()
    assert "20 min on 12 answers in 1 attempt" in text


def test_each_learner_sees_only_their_own_figures(learner, other_learner, client, mock):
    take(learner, mock, now=timezone.now(), right=lambda s: True)
    client.force_login(other_learner)
    text = client.get("/").content.decode()
    assert "timed-chart" not in text
    assert "Not enough data yet" in text
    history = client.get(reverse("history")).content.decode()
    assert "No finished attempts yet" in history
    rows = list(
        csv.reader(io.StringIO(b"".join(client.get(reverse("progress:history_csv")).streaming_content).decode()))
    )
    assert len(rows) == 1  # the header only


def test_dashboard_queries_do_not_grow_with_attempts(
    learner,
    learner_client,
    mock,
    practice_blueprint,
    bank,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    """Intended to prevent an n+1 issue: the dashboard makes 19 queries with its figures computed (the first view
    after an attempt finishes) and 13 from the cache, for 1 attempt as for 12 of both kinds with review cards.
    (The review cards of a finished attempt are written by the next page that shows them: pinned in test_review.)"""
    now = timezone.now()
    take(learner, mock, now=now - timedelta(days=30), right=lambda s: True)
    with django_assert_num_queries(19):
        learner_client.get("/")
    with django_assert_num_queries(13):
        learner_client.get("/")
    for i in range(11):
        with django_capture_on_commit_callbacks(execute=True):
            blueprint, domain = (mock, None) if i % 2 else (practice_blueprint, bank.domains.get(number=1 + i % 6))
            take(
                learner,
                blueprint,
                now=now - timedelta(days=20 - i),
                right=lambda s: s.position % 2 == 0,
                seed=i + 5,
                domain=domain,
            )
    assert review.review_cards_catch_up(learner) > 0 and learner.review_cards.exists()
    with django_assert_num_queries(19):
        learner_client.get("/")
    with django_assert_num_queries(13):
        learner_client.get("/")


def test_history_filters_paginate_and_ignore_junk(learner, learner_client, mock, practice_blueprint, bank):
    now = timezone.now()
    for i in range(22):
        take(learner, mock, now=now - timedelta(days=i), right=lambda s: True, seed=i)
    take(learner, practice_blueprint, now=now, right=lambda s: True, domain=bank.domains.first())
    page1 = learner_client.get(reverse("history")).content.decode()
    assert "23 attempts" in page1 and "Page 1 of 2" in page1
    timed = learner_client.get(reverse("history"), {"mode": "timed"}).content.decode()
    assert "22 attempts" in timed
    recent = learner_client.get(reverse("history"), {"since": (timezone.localdate() - timedelta(days=2)).isoformat()})
    assert "4 attempts" in recent.content.decode()  # days 0, 1, 2 of the mock and today's drill
    for extreme in ({"until": "9999-12-31"}, {"since": "0001-01-01"}, {"since": "2030-01-01", "until": "2029-01-01"}):
        assert learner_client.get(reverse("history"), extreme).status_code == 200
        assert b"".join(learner_client.get(reverse("progress:history_csv"), extreme).streaming_content)
    assert learner_client.get("/", {"bank": "<script>"}).status_code == 200
    junk = learner_client.get(reverse("history"), {"mode": "nonsense", "since": "yesterday", "exam": "x", "page": "z"})
    assert junk.status_code == 200
    assert "23 attempts" in junk.content.decode()
    assert "Some filters were not understood" in junk.content.decode()


def test_csv_export_has_every_answer_and_neutralises_formulas(learner, learner_client, mock):
    attempt = take(learner, mock, now=timezone.now(), right=lambda s: s.position != 1)
    slot = attempt.slots.get(position=1)
    choice = slot.question_version.choices.get(pk=slot.selected_choice_ids[0])
    choice.text = '=HYPERLINK("http://evil")'
    choice.save()
    response = learner_client.get(reverse("progress:history_csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 12
    first = next(r for r in rows if r["position"] == "1")
    assert first["your answer text"].startswith("'=")
    assert first["correct"] == "no"
    assert sum(r["correct"] == "yes" for r in rows) == 11


def test_csv_hides_correctness_until_the_review_opens(learner, learner_client, mock):
    attempt = take(learner, mock, now=timezone.now(), right=lambda s: True)
    Attempt.objects.filter(pk=attempt.pk).update(review_opens_at=timezone.now() + timedelta(days=1))
    rows = list(
        csv.DictReader(
            io.StringIO(b"".join(learner_client.get(reverse("progress:history_csv")).streaming_content).decode())
        )
    )
    assert {r["correct"] for r in rows} == {""}


def test_today_and_this_week_are_the_learners_own(learner, mock):
    """Sunday 23:30 in Auckland is last week there, though in UTC (10:30 on Sunday) it is this week."""
    import zoneinfo
    from datetime import datetime

    from quizapp.progress import queries

    auckland, utc = zoneinfo.ZoneInfo("Pacific/Auckland"), zoneinfo.ZoneInfo("UTC")
    sunday_night = datetime(2026, 11, 29, 23, 30, tzinfo=auckland)
    monday_morning = sunday_night + timedelta(hours=1, minutes=30)
    take(learner, mock, now=sunday_night, right=lambda s: True, seconds=30)
    with timezone.override(auckland):
        week = queries.study_this_week(learner, monday_morning)
        assert week.since.isoformat() == "2026-11-30" and week.answered == 0
        assert queries.end_of_today(monday_morning) == datetime(2026, 12, 1, 0, 0, tzinfo=auckland)
    with timezone.override(utc):
        week = queries.study_this_week(learner, monday_morning)
        assert week.since.isoformat() == "2026-11-23" and week.answered == 12
