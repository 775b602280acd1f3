"""Time per question on the result page: the slowest questions, the pace against the real exam's, time running out."""

import pytest
from django.urls import reverse
from django.utils import timezone

from quizapp.exams import queries
from quizapp.exams.models import Attempt
from tests.factories import BlueprintFactory

from .helpers import take

pytestmark = pytest.mark.django_db


@pytest.fixture
def mock(bank):
    return BlueprintFactory(bank=bank, slug="mock", title="Mock", question_count=6, duration_minutes=30)


def test_the_pace_report_ranks_the_slowest_and_compares_with_the_exam(learner, mock):
    attempt = take(learner, mock, now=timezone.now(), right=lambda s: True, seconds=lambda s: 60 * s.position)
    pace = queries.pace_report(attempt)
    assert [q.position for q in pace.slowest] == [6, 5, 4, 3, 2]
    assert pace.seconds_per_question == 210  # (60 + ... + 360) / 6
    assert pace.too_slow and pace.projected_minutes == 262
    assert not pace.ran_out


def test_within_pace_and_time_running_out(learner, mock, learner_client):
    attempt = take(learner, mock, now=timezone.now(), right=lambda s: True, seconds=60, skip={5, 6})
    Attempt.objects.filter(pk=attempt.pk).update(finish_reason=Attempt.FinishReason.TIME_UP)
    text = learner_client.get(reverse("exams:result", args=[attempt.pk])).content.decode()
    assert "Time per question" in text
    assert "Time ran out</strong> with 2 questions unanswered" in text
    assert "Within exam pace" in text and "60 s</strong> per answered question" in text


def test_no_recorded_time_no_report(learner, mock, learner_client):
    attempt = take(learner, mock, now=timezone.now(), right=lambda s: True, seconds=0)
    assert queries.pace_report(attempt) is None
    assert "Time per question" not in learner_client.get(reverse("exams:result", args=[attempt.pk])).content.decode()
