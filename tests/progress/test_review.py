"""Review of mistakes: wrong answers become FSRS cards, the schedule moves with the clock, a session reviews them."""

from datetime import timedelta
from io import StringIO

import pytest
from django.urls import reverse
from django.utils import timezone

from quizapp.exams import services
from quizapp.exams.models import Attempt
from quizapp.progress import review
from quizapp.progress.models import PendingReview, ReviewCard, ReviewLog
from quizapp.progress.queries import end_of_today
from tests.factories import BlueprintFactory

from .helpers import take

pytestmark = pytest.mark.django_db


@pytest.fixture
def mock(bank):
    return BlueprintFactory(bank=bank, slug="mock", title="Mock", question_count=10, duration_minutes=30)


def finished(*args, capture, **kwargs):
    """Finish an attempt (its signal run), then catch up as the learner's next page that shows cards does."""
    with capture(execute=True):
        attempt = take(*args, **kwargs)
    review.review_cards_catch_up(attempt.user)
    return attempt


def test_a_submit_only_notes_the_attempt_and_the_next_page_schedules_its_cards(
    learner, learner_client, mock, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        attempt = take(learner, mock, now=timezone.now(), right=lambda s: s.position > 4)
    # The submit wrote no card (every learner of a sitting submits in the same seconds): one row waits instead.
    assert not ReviewCard.objects.exists()
    assert list(PendingReview.objects.values_list("attempt_id", flat=True)) == [attempt.pk]
    learner_client.get("/")
    assert ReviewCard.objects.for_user(learner).count() == 4 and not PendingReview.objects.exists()
    # Nothing waits: one query, and nothing moves again.
    with django_assert_max_num_queries(1):
        assert review.review_cards_catch_up(learner) == 0
    assert ReviewLog.objects.count() == 4


def test_the_review_page_catches_up_too_and_in_finishing_order(learner, learner_client, mock, bank):
    first = take(learner, mock, now=timezone.now() - timedelta(days=2), right=lambda s: s.position != 1, seed=1)
    missed = first.slots.get(position=1).question_version_id
    second = take(learner, mock, now=timezone.now() - timedelta(days=1), right=lambda s: True, version_ids=[missed])
    for attempt in (second, first):  # noted in the wrong order: the finishing order decides
        PendingReview.objects.create(attempt=attempt, user=learner, finished_at=attempt.finished_at)
    learner_client.get(reverse("progress:review"))
    card = ReviewCard.objects.get()
    # Wrong two days ago, then right a day ago: reviewed twice, in that order (the last review is the second's).
    assert card.reviews == 2 and card.lapses == 1 and card.last_review == second.finished_at
    assert not PendingReview.objects.exists()


def test_an_attempt_already_scheduled_by_the_command_is_not_scheduled_twice(learner, mock):
    from django.core.management import call_command

    attempt = take(learner, mock, now=timezone.now(), right=lambda s: s.position > 8)
    PendingReview.objects.create(attempt=attempt, user=learner, finished_at=attempt.finished_at)
    call_command("sync_review_cards", stdout=StringIO())
    assert not PendingReview.objects.exists()  # the command clears what it scheduled
    assert review.review_cards_catch_up(learner) == 0 and ReviewLog.objects.count() == 8


def test_wrong_answers_become_cards_due_the_next_day(learner, mock, django_capture_on_commit_callbacks):
    now = timezone.now()
    attempt = finished(
        learner, mock, now=now, right=lambda s: s.position > 3, capture=django_capture_on_commit_callbacks
    )
    cards = ReviewCard.objects.for_user(learner)
    assert cards.count() == 3
    for card in cards:
        assert card.due - attempt.finished_at == timedelta(days=1)  # whole days: no minute-level steps
        assert card.lapses == 1 and card.reviews == 1
        assert card.due.utcoffset() == timedelta(0)
    assert not review.due_cards(learner, by=now).exists()
    assert review.due_cards(learner, by=now + timedelta(days=1, minutes=10)).count() == 3


def test_unanswered_questions_make_no_cards(learner, mock, django_capture_on_commit_callbacks):
    finished(
        learner, mock, now=timezone.now(), right=lambda s: True, skip={1, 2}, capture=django_capture_on_commit_callbacks
    )
    assert not ReviewCard.objects.exists()


def test_right_answers_push_a_card_further_out_each_time(learner, mock, django_capture_on_commit_callbacks):
    day0 = timezone.now()
    finished(learner, mock, now=day0, right=lambda s: s.position != 1, capture=django_capture_on_commit_callbacks)
    card = ReviewCard.objects.get()
    question_version = card.question.current_version_id
    gaps = []
    when = card.due
    for i in range(3):  # time-travel: each review happens when the card is due
        with django_capture_on_commit_callbacks(execute=True):
            take(
                learner,
                mock,
                now=when - timedelta(minutes=5),
                right=lambda s: True,
                version_ids=[question_version],
                context="review",
                seed=i,
            )
        review.review_cards_catch_up(learner)  # the learner's next page that shows cards
        card.refresh_from_db()
        gaps.append(card.due - card.last_review)
        when = card.due
    assert gaps[0] < gaps[1] < gaps[2]
    assert card.reviews == 4 and card.lapses == 1
    assert list(card.logs.values_list("rating", flat=True)) == [1, 3, 3, 3]


def test_right_but_much_slower_than_usual_is_hard(learner, mock, django_capture_on_commit_callbacks):
    now = timezone.now()
    finished(
        learner,
        mock,
        now=now - timedelta(days=3),
        right=lambda s: s.position != 1,
        seconds=60,
        capture=django_capture_on_commit_callbacks,
    )
    card = ReviewCard.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        take(
            learner,
            mock,
            now=now,
            right=lambda s: True,
            seconds=300,
            version_ids=[card.question.current_version_id],
            context="review",
        )
    review.review_cards_catch_up(learner)
    assert card.logs.last().rating == ReviewLog.Rating.HARD
    assert review.rating_for(correct=True, seconds=100, usual=60) == review.rating_for(
        correct=True, seconds=1, usual=None
    )


def test_replaying_the_signal_changes_nothing(learner, mock, django_capture_on_commit_callbacks):
    attempt = finished(
        learner, mock, now=timezone.now(), right=lambda s: False, capture=django_capture_on_commit_callbacks
    )
    before = list(ReviewCard.objects.values_list("due", "reviews"))
    assert review.review_cards_update(attempt=attempt) == 0
    assert list(ReviewCard.objects.values_list("due", "reviews")) == before


def test_a_second_finish_sends_no_signal(learner, mock, django_capture_on_commit_callbacks):
    attempt = take(learner, mock, now=timezone.now(), right=lambda s: False)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.attempt_finish(attempt_id=attempt.pk, now=timezone.now())
    assert callbacks == []


def test_hidden_answers_schedule_nothing_before_the_review_opens(learner, mock, django_capture_on_commit_callbacks):
    now = timezone.now()
    attempt = take(learner, mock, now=now, right=lambda s: s.position != 1)
    Attempt.objects.filter(pk=attempt.pk).update(review_opens_at=now + timedelta(days=7))
    attempt.refresh_from_db()
    review.review_cards_update(attempt=attempt)
    assert ReviewCard.objects.get().due == now + timedelta(days=7)


def test_a_review_session_takes_the_due_cards_and_shows_the_explanation(
    learner, learner_client, mock, django_capture_on_commit_callbacks
):
    past = timezone.now() - timedelta(days=2)
    finished(learner, mock, now=past, right=lambda s: s.position > 2, capture=django_capture_on_commit_callbacks)
    dashboard = learner_client.get("/").content.decode()
    assert "2 questions due today" in dashboard
    page = learner_client.get(reverse("progress:review")).content.decode()
    assert "2 questions due today" in page
    response = learner_client.post(reverse("progress:review"), {"bank": mock.bank.slug})
    attempt = Attempt.objects.get(context="review")
    assert response["Location"] == attempt.get_absolute_url()
    assert attempt.is_practice and attempt.question_count == 2
    assert not attempt.blueprint.is_active  # the hidden practice blueprint
    due_questions = set(ReviewCard.objects.values_list("question_id", flat=True))
    assert set(attempt.slots.values_list("question_version__question_id", flat=True)) == due_questions
    # Answer and check the first one: practice mode shows the explanation.
    slot = attempt.slots.get(position=1)
    correct = sorted(slot.question_version.correct_choice_ids())
    learner_client.post(reverse("exams:answer", args=[attempt.pk, 1]), {"choice": correct})
    learner_client.post(reverse("exams:check", args=[attempt.pk, 1]))
    question = learner_client.get(reverse("exams:question", args=[attempt.pk, 1])).content.decode()
    assert slot.question_version.explanation in question
    # Starting again resumes the open session rather than making another.
    learner_client.post(reverse("progress:review"), {"bank": mock.bank.slug})
    assert Attempt.objects.filter(context="review").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        learner_client.post(reverse("exams:submit", args=[attempt.pk]))
    learner_client.get(reverse("progress:review"))  # where the learner goes next
    # The one answered moved to a later day; the one left unanswered is still due.
    still_due = review.due_cards(learner, by=end_of_today(timezone.now()))
    assert list(still_due.values_list("question_id", flat=True)) == [
        attempt.slots.get(position=2).question_version.question_id
    ]


def test_options_are_reshuffled_at_every_review(learner, mock):
    from quizapp.exams.practice_sets import practice_blueprint

    blueprint = practice_blueprint(mock.bank)
    assert blueprint.shuffle_options and not blueprint.is_active
    version = mock.bank.questions.first().current_version_id
    orders = set()
    for seed in range(6):
        attempt = take(
            learner,
            blueprint,
            now=timezone.now(),
            right=lambda s: True,
            version_ids=[version],
            context="review",
            seed=seed,
        )
        orders.add(tuple(attempt.slots.get().choice_order))
    assert len(orders) > 1


def test_the_catalogue_never_lists_the_hidden_practice_blueprint(learner_client, mock):
    from quizapp.exams.practice_sets import practice_blueprint

    hidden = practice_blueprint(mock.bank)
    assert hidden.title not in learner_client.get(reverse("exams:catalogue")).content.decode()
    assert learner_client.get(reverse("exams:blueprint", args=[mock.bank.slug, hidden.slug])).status_code == 404


def test_review_post_with_nothing_due_or_a_junk_bank(learner_client, bank):
    response = learner_client.post(reverse("progress:review"), {"bank": "<junk>"})
    assert response.status_code == 302
    assert not Attempt.objects.exists()


def test_sync_review_cards_catches_up_once(learner, mock):
    from io import StringIO

    from django.core.management import call_command

    take(learner, mock, now=timezone.now() - timedelta(days=3), right=lambda s: s.position > 2)  # no signal run
    out = StringIO()
    call_command("sync_review_cards", stdout=out)
    assert "2 answer(s) scheduled" in out.getvalue()
    assert ReviewCard.objects.count() == 2
    call_command("sync_review_cards", stdout=out)
    assert "0 answer(s) scheduled" in out.getvalue()


def test_cards_are_written_in_a_fixed_number_of_queries_however_many_answers_were_wrong(bank, learner):
    """Intended to prevent an n+1 issue: a submit used to write each card on its own."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    big = BlueprintFactory(bank=bank, slug="big", title="Big", question_count=30, duration_minutes=60)
    small = BlueprintFactory(bank=bank, slug="small", title="Small", question_count=3, duration_minutes=60)
    counts = []
    for blueprint, seed in ((small, 1), (big, 2), (big, 3)):  # new cards, then cards reviewed again
        attempt = take(learner, blueprint, now=timezone.now(), right=lambda s: s.position % 3 == 0, seed=seed)
        with CaptureQueriesContext(connection) as captured:
            moved = review.review_cards_update(attempt=attempt)
        assert moved > 0
        counts.append(len(captured))
    # At most: the waiting row's delete, the slots, the cards (locked), the learner's attempts and their usual pace,
    # one INSERT and one UPDATE of cards, the logs, and the savepoint's own statements; an empty write is skipped.
    assert counts[1] == counts[2] and max(counts) <= 10
