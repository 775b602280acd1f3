"""Spaced review of mistakes with FSRS: every question a learner answers wrong becomes a review card.

Each answered question of a finished attempt that has (or gets) a card is one FSRS review: wrong is Again, right
is Good, right but much slower than the learner's usual pace is Hard. Intervals are whole days (no minute-level
learning steps: a learner comes back tomorrow, not in ten minutes), computed in UTC. Fuzzing is off so that the
schedule is reproducible; with a few dozen cards per learner there is no pile-up for it to spread.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime

import fsrs
from django.db import transaction
from django.db.models import Q

from quizapp.exams.models import Attempt, AttemptSlot

from .models import PendingReview, ReviewCard, ReviewLog

SCHEDULER = fsrs.Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
# "Much slower than usual": at least this many times the learner's median time per question...
SLOW_FACTOR = 2.0
# ...measured over at least this many timed answers (fewer: no Hard ratings, rather than a guess).
PACE_SAMPLES = 10
PACE_WINDOW = 500


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def usual_seconds(user_id) -> float | None:
    """The learner's median seconds on an answered question, over their latest answers (None: too few)."""
    attempt_ids = list(Attempt.objects.filter(user_id=user_id).order_by().values_list("pk", flat=True))
    seconds = list(
        AttemptSlot.objects.filter(attempt_id__in=attempt_ids, seconds_spent__gt=0)
        .exclude(selected_choice_ids=[])
        .order_by("-answered_at")
        .values_list("seconds_spent", flat=True)[:PACE_WINDOW]
    )
    return statistics.median(seconds) if len(seconds) >= PACE_SAMPLES else None


def rating_for(*, correct: bool, seconds: int, usual: float | None) -> fsrs.Rating:
    if not correct:
        return fsrs.Rating.Again
    if usual and seconds >= SLOW_FACTOR * usual:
        return fsrs.Rating.Hard
    return fsrs.Rating.Good


def to_fsrs(card: ReviewCard) -> fsrs.Card:
    return fsrs.Card(
        card_id=card.pk or 1,
        state=fsrs.State(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=_utc(card.due),
        last_review=_utc(card.last_review) if card.last_review else None,
    )


def review_card_answer(*, card: ReviewCard, rating: fsrs.Rating, when: datetime) -> ReviewCard:
    """Apply one FSRS review to `card` (unsaved): its new state, stability, difficulty and due date."""
    scheduled, _ = SCHEDULER.review_card(to_fsrs(card), rating, review_datetime=_utc(when))
    card.state = int(scheduled.state)
    card.step = scheduled.step
    card.stability = scheduled.stability
    card.difficulty = scheduled.difficulty
    card.due = scheduled.due
    card.last_review = scheduled.last_review
    card.reviews += 1
    card.lapses += rating == fsrs.Rating.Again
    return card


@transaction.atomic
def review_cards_update(*, attempt: Attempt) -> int:
    """Turn a finished attempt's answers into card reviews; returns how many cards moved.

    Wrong answers create cards; any answer to a question that has a card reviews it. Each slot counts once
    (ReviewLog is unique per slot), so a replayed signal changes nothing. Unanswered questions are skipped: the
    learner may never have read them. An attempt whose answers stay hidden until a review time (an assignment)
    schedules nothing before that time, so the pile does not give the answers away.
    """
    if attempt.is_open:
        return 0
    PendingReview.objects.filter(attempt_id=attempt.pk).delete()  # scheduled now, whoever called
    when = attempt.finished_at
    slots = list(
        AttemptSlot.objects.filter(attempt=attempt, review_log__isnull=True)
        .exclude(selected_choice_ids=[])
        .values("id", "question_version__question_id", "is_correct", "seconds_spent")
    )
    if not slots:
        return 0
    question_ids = {slot["question_version__question_id"] for slot in slots}
    cards = {
        card.question_id: card
        for card in ReviewCard.objects.select_for_update().filter(user=attempt.user_id, question_id__in=question_ids)
    }
    usual = usual_seconds(attempt.user_id) if any(slot["is_correct"] for slot in slots) else None
    logs, created, reviewed = [], [], {}
    for slot in slots:
        question_id, correct = slot["question_version__question_id"], bool(slot["is_correct"])
        card = cards.get(question_id)
        if card is None:
            if correct:
                continue
            card = ReviewCard(user_id=attempt.user_id, question_id=question_id, due=when, created_at=when)
            cards[question_id] = card
            created.append(card)
        elif card.pk is not None:
            reviewed[card.pk] = card
        rating = rating_for(correct=correct, seconds=slot["seconds_spent"], usual=usual)
        review_card_answer(card=card, rating=rating, when=when)
        if attempt.review_opens_at and card.due < attempt.review_opens_at:
            card.due = attempt.review_opens_at
        logs.append(ReviewLog(card=card, slot_id=slot["id"], rating=int(rating), reviewed_at=when, due_after=card.due))
    # Three writes whatever the number of cards (a submit of 75 answers ran one UPDATE or INSERT per card).
    ReviewCard.objects.bulk_create(created)
    ReviewCard.objects.bulk_update(reviewed.values(), CARD_FIELDS)
    ReviewLog.objects.bulk_create(logs)
    return len(logs)


CARD_FIELDS = ["state", "step", "stability", "difficulty", "due", "last_review", "reviews", "lapses"]


def review_cards_catch_up(user) -> int:
    """Schedule the learner's finished attempts that wait for it, oldest first; returns how many cards moved.

    Called by every page that shows cards, before it reads them, so a learner never sees a pile that misses an
    exam: one query when nothing waits. Each attempt is claimed by deleting its PendingReview row first, in the
    transaction that writes its cards: a second tab asking at the same moment waits for that row, then finds it
    gone and writes nothing (on SQLite the delete takes the database's write lock, with the same effect).
    """
    waiting = list(
        PendingReview.objects.filter(user_id=user.pk)
        .order_by("finished_at", "attempt_id")
        .values_list("attempt_id", flat=True)
    )
    moved = 0
    for attempt_id in waiting:
        with transaction.atomic():
            claimed, _ = PendingReview.objects.filter(attempt_id=attempt_id).delete()
            if claimed:
                moved += review_cards_update(attempt=Attempt.objects.get(pk=attempt_id))
    return moved


def due_cards(user, *, by: datetime):
    """The learner's cards due by `by` whose questions are still published, most overdue first."""
    return (
        ReviewCard.objects.for_user(user)
        .due(by)
        .filter(Q(question__status="published"), question__current_version__isnull=False)
        .order_by("due", "pk")
    )


REVIEW_SESSION_SIZE = 20
REVIEW_CONTEXT = "review"


def review_session_versions(user, bank, *, by: datetime, limit: int = REVIEW_SESSION_SIZE) -> list[int]:
    """Current versions of the bank's due cards, most overdue first (a session of at most `limit`)."""
    return list(
        due_cards(user, by=by)
        .filter(question__bank=bank)
        .values_list("question__current_version_id", flat=True)[:limit]
    )
