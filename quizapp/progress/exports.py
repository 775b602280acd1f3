"""The learner's own attempts and answers as CSV rows (a spreadsheet opens them; formulas never run)."""

from __future__ import annotations

import string

from quizapp.bank.models import Choice
from quizapp.exams.models import AttemptSlot

HEADER = [
    "attempt",
    "exam",
    "mode",
    "kind",
    "domain chosen",
    "started (UTC)",
    "finished (UTC)",
    "finish reason",
    "score %",
    "pass mark %",
    "position",
    "question",
    "version",
    "domain",
    "topic",
    "your answer",
    "your answer text",
    "correct",
    "seconds",
    "flagged",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 2000


def neutralise(value):
    """A text cell a spreadsheet would read as a formula gets a leading apostrophe (OWASP's CSV injection advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def answer_rows(attempts, *, now):
    """The header, then one row per question of each finished attempt; hidden answers stay hidden."""
    from .queries import context_label

    yield HEADER
    attempts = list(attempts)
    by_id = {attempt.pk: attempt for attempt in attempts}
    slots = (
        AttemptSlot.objects.filter(attempt_id__in=list(by_id))
        .select_related("question_version__question", "question_version__domain", "question_version__topic")
        .order_by("attempt__finished_at", "attempt_id", "position")
    )
    texts = dict(Choice.objects.filter(version__slots__attempt_id__in=list(by_id)).values_list("id", "text").distinct())
    for slot in slots.iterator(chunk_size=BATCH):
        attempt = by_id[slot.attempt_id]
        version = slot.question_version
        shown = attempt.review_is_open(now)
        letters = [string.ascii_uppercase[slot.choice_order.index(c)] for c in slot.selected_choice_ids]
        row = [
            str(attempt.pk),
            attempt.blueprint.title,
            attempt.get_mode_display(),
            context_label(attempt.context),
            attempt.chosen_domain.name if attempt.chosen_domain else "",
            attempt.started_at.isoformat(timespec="seconds"),
            attempt.finished_at.isoformat(timespec="seconds") if attempt.finished_at else "",
            attempt.get_finish_reason_display(),
            attempt.score_percent,
            attempt.pass_mark_percent,
            slot.position,
            version.question.key,
            version.number,
            f"{version.domain.number} {version.domain.name}",
            version.topic.name,
            "".join(letters),
            " | ".join(texts.get(c, "") for c in slot.selected_choice_ids),
            ("yes" if slot.is_correct else "no") if shown else "",
            slot.seconds_spent,
            "yes" if slot.flagged else "",
        ]
        yield [neutralise(cell) for cell in row]
