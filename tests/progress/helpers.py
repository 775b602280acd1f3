"""Taking attempts quickly: answers are written to the slots directly, then the engine grades and finishes."""

import random
from datetime import timedelta

from quizapp.exams import services
from quizapp.exams.models import AttemptSlot


def take(user, blueprint, *, now, right, seconds=60, domain=None, version_ids=None, context="", seed=1, skip=()):
    """Start and finish an attempt; `right(slot)` says whether to answer a slot correctly; positions in skip stay
    unanswered. Returns the finished attempt (signals run only inside django_capture_on_commit_callbacks)."""
    attempt = services.attempt_start(
        user=user,
        blueprint=blueprint,
        now=now,
        domain=domain,
        rng=random.Random(seed),
        version_ids=version_ids,
        context=context,
    )
    slots = list(attempt.slots.select_related("question_version").prefetch_related("question_version__choices"))
    for slot in slots:
        if slot.position in skip:
            continue
        correct = sorted(slot.question_version.correct_choice_ids())
        wrong = [c for c in slot.choice_order if c not in correct][:1]
        slot.selected_choice_ids = correct if right(slot) else wrong
        slot.answered_at = now
        slot.seconds_spent = seconds(slot) if callable(seconds) else seconds
    AttemptSlot.objects.bulk_update(slots, ["selected_choice_ids", "answered_at", "seconds_spent"])
    return services.attempt_finish(attempt_id=attempt.pk, now=now + timedelta(minutes=5))


def domain_of(slot):
    return slot.question_version.domain.number
