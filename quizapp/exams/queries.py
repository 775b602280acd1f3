"""Reads for the exam pages, each a fixed number of queries however many questions an attempt has."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q

from quizapp.bank.models import Choice, Note

from .models import Attempt, AttemptSlot


@dataclass(frozen=True, slots=True)
class PaletteSlot:
    """What the palette and the review screen show of one slot, under the slot's own attribute names."""

    position: int
    is_answered: bool
    flagged: bool
    is_confirmed: bool
    is_correct: bool | None


def palette_slots(attempt: Attempt) -> list[PaletteSlot]:
    """Each slot's palette state in position order, from one query of five columns.

    Plain records rather than 75 model instances: the palette is on every question page, and building the
    instances (each with its JSON column decoded into a model) was a third of what the palette cost.
    """
    rows = attempt.slots.order_by("position").values_list(
        "position", "selected_choice_ids", "flagged", "confirmed_at", "is_correct"
    )
    return [
        PaletteSlot(position, bool(selected), flagged, confirmed_at is not None, is_correct)
        for position, selected, flagged, confirmed_at, is_correct in rows
    ]


def _slots_with_versions(attempt: Attempt):
    """Slots with their frozen versions, domains, topics, choices and cited notes, in a fixed number of queries."""
    return attempt.slots.select_related("question_version__domain", "question_version__topic").prefetch_related(
        _CHOICES, Prefetch("question_version__notes", queryset=Note.objects.order_by("position"))
    )


# The slots' choices, unordered: order_choices puts them in the attempt's order, and Choice's default ordering
# (by version, so by question, so by the bank's title) would join three tables to sort what is sorted again.
_CHOICES = Prefetch("question_version__choices", queryset=Choice.objects.order_by())


def slot_with_choices(attempt: Attempt, position: int) -> AttemptSlot:
    """One slot, its frozen version and that version's choices in this attempt's order (two queries).

    Not the notes: the question page shows them only once a drill's answer is checked, and then reads them itself.
    """
    slot = (
        attempt.slots.select_related("question_version__domain", "question_version__topic")
        .prefetch_related(_CHOICES)
        .get(position=position)
    )
    slot.ordered_choices = order_choices(slot)
    return slot


def order_choices(slot: AttemptSlot) -> list[Choice]:
    by_id = {choice.id: choice for choice in slot.question_version.choices.all()}
    selected = set(slot.selected_choice_ids)
    ordered = []
    for choice_id in slot.choice_order:
        choice = by_id[choice_id]
        choice.is_selected = choice_id in selected
        ordered.append(choice)
    return ordered


def review_slots(attempt: Attempt) -> list[AttemptSlot]:
    """Every slot with its version, choices and notes, for the answers page after an attempt is finished."""
    slots = list(_slots_with_versions(attempt))
    for slot in slots:
        slot.ordered_choices = order_choices(slot)
    return slots


# The answers page's filters, by the name its `show` parameter uses. They read only `is_correct` and `flagged`,
# so they apply to the answers page's slots and to the result page's cells alike.
REVIEW_FILTERS = {
    "all": lambda slot: True,
    "incorrect": lambda slot: not slot.is_correct,
    "flagged": lambda slot: slot.flagged,
}


def review_counts(slots) -> dict[str, int]:
    """How many questions each filter of the answers page shows."""
    return {name: sum(1 for slot in slots if keep(slot)) for name, keep in REVIEW_FILTERS.items()}


@dataclass(frozen=True)
class ResultCell:
    """One question of the result page's grid: its number and state, nothing of the question itself."""

    position: int
    is_correct: bool | None
    flagged: bool
    is_answered: bool

    @property
    def state(self) -> str:
        if self.is_correct:
            return "correct"
        return "incorrect" if self.is_answered else "unanswered"

    @property
    def state_label(self) -> str:
        return {"correct": "Correct", "incorrect": "Incorrect", "unanswered": "Not answered"}[self.state]


def result_cells(attempt: Attempt) -> list[ResultCell]:
    """Each question's state for the result page's grid, in one query of four slot columns.

    No versions, choices, notes or explanations: those are the answers page's (review_slots). The result page is
    what every learner of a group sitting opens at once, so it stays small.
    """
    rows = attempt.slots.order_by("position").values_list("position", "is_correct", "flagged", "selected_choice_ids")
    return [
        ResultCell(position=position, is_correct=is_correct, flagged=flagged, is_answered=bool(selected))
        for position, is_correct, flagged, selected in rows
    ]


@dataclass
class DomainResult:
    number: int
    name: str
    correct: int
    total: int
    pass_mark_percent: int

    @property
    def percent(self):
        return round(100 * self.correct / self.total) if self.total else 0

    @property
    def meets(self):
        return self.percent >= self.pass_mark_percent


def domain_breakdown(attempt: Attempt) -> list[DomainResult]:
    """Correct and total per exam domain, in domain order (one query)."""
    rows = (
        attempt.slots.values("question_version__domain__number", "question_version__domain__name")
        .annotate(total=Count("id"), correct=Count("id", filter=Q(is_correct=True)))
        .order_by("question_version__domain__number")
    )
    return [
        DomainResult(
            number=row["question_version__domain__number"],
            name=row["question_version__domain__name"],
            correct=row["correct"],
            total=row["total"],
            pass_mark_percent=attempt.pass_mark_percent,
        )
        for row in rows
    ]


def offline_pack(attempt: Attempt, *, now) -> dict:
    """What the exam page needs to keep going without a connection: every question's stem and options in this
    attempt's order, the current selections, and a save token per question. Never a key, rationale or
    explanation (the page may hold it for hours). Three queries: the slots, their versions, their choices."""
    from . import save_protocol

    slots = list(attempt.slots.select_related("question_version").prefetch_related("question_version__choices"))
    questions = []
    for slot in slots:
        by_id = {choice.id: choice for choice in slot.question_version.choices.all()}
        questions.append(
            {
                "position": slot.position,
                "multiple": slot.question_version.is_multiple,
                "stem": slot.question_version.stem,
                "choices": [{"id": cid, "text": by_id[cid].text} for cid in slot.choice_order if cid in by_id],
                "selected": list(slot.selected_choice_ids),
                "flagged": slot.flagged,
                "token": save_protocol.page_token(attempt_id=attempt.pk, position=slot.position, now=now),
            }
        )
    return {"attempt": str(attempt.pk), "questions": questions}


# --- Time per question (the result page's pace report) ---------------------------------------------------------

# The real exam: 180 minutes for 75 questions.
EXAM_MINUTES, EXAM_QUESTIONS = 180, 75
EXAM_SECONDS_PER_QUESTION = EXAM_MINUTES * 60 / EXAM_QUESTIONS
SLOWEST_SHOWN = 5


@dataclass
class SlowQuestion:
    position: int
    seconds: int
    domain_number: int
    answered: bool


@dataclass
class PaceReport:
    question_count: int
    answered: int
    seconds_total: int
    slowest: list[SlowQuestion]
    ran_out: bool
    unanswered: int
    exam_seconds_per_question: float = EXAM_SECONDS_PER_QUESTION

    @property
    def seconds_per_question(self) -> float:
        return self.seconds_total / self.answered if self.answered else 0.0

    @property
    def projected_minutes(self) -> int:
        """Minutes a full 75-question exam would take at this pace."""
        return round(self.seconds_per_question * EXAM_QUESTIONS / 60)

    @property
    def too_slow(self) -> bool:
        return self.answered > 0 and self.seconds_per_question > self.exam_seconds_per_question

    @property
    def pace_percent(self) -> int:
        """This attempt's time per question as a percentage of the real exam's."""
        return round(100 * self.seconds_per_question / self.exam_seconds_per_question)


def pace_report(attempt: Attempt) -> PaceReport | None:
    """Time per question from the recorded visits: the slowest questions and the pace against the real exam's.

    One query. None when no time was recorded (time is added to a question when the learner moves off it).
    """
    rows = list(
        attempt.slots.values_list(
            "position", "seconds_spent", "selected_choice_ids", "question_version__domain__number"
        )
    )
    answered = [row for row in rows if row[2]]
    total = sum(seconds for _, seconds, choices, _ in answered)
    if not any(seconds for _, seconds, _, _ in rows):
        return None
    slowest = sorted((row for row in rows if row[1]), key=lambda row: (-row[1], row[0]))[:SLOWEST_SHOWN]
    return PaceReport(
        question_count=len(rows),
        answered=len(answered),
        seconds_total=total,
        slowest=[SlowQuestion(position=p, seconds=s, domain_number=d, answered=bool(c)) for p, s, c, d in slowest],
        ran_out=attempt.finish_reason == Attempt.FinishReason.TIME_UP,
        unanswered=len(rows) - len(answered),
    )
