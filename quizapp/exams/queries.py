"""Reads for the exam pages, each a fixed number of queries however many questions an attempt has."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q

from quizapp.bank.models import Choice, Note

from .models import Attempt, AttemptSlot


def palette_slots(attempt: Attempt) -> list[AttemptSlot]:
    """The slots with just what the question palette shows (answered, flagged, checked)."""
    return list(
        attempt.slots.only(
            "id", "attempt_id", "position", "selected_choice_ids", "flagged", "confirmed_at", "is_correct"
        )
    )


def _slots_with_versions(attempt: Attempt):
    """Slots with their frozen versions, domains, topics, choices and cited notes, in a fixed number of queries."""
    return attempt.slots.select_related("question_version__domain", "question_version__topic").prefetch_related(
        "question_version__choices", Prefetch("question_version__notes", queryset=Note.objects.order_by("position"))
    )


def slot_with_choices(attempt: Attempt, position: int) -> AttemptSlot:
    """One slot, its frozen version and that version's choices in this attempt's order."""
    slot = _slots_with_versions(attempt).get(position=position)
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
    """Every slot with its version, choices and notes, for the review after an attempt is finished."""
    slots = list(_slots_with_versions(attempt))
    for slot in slots:
        slot.ordered_choices = order_choices(slot)
    return slots


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
