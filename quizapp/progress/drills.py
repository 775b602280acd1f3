"""Question sets the learner did not pick one by one: the smart drill, a weak area's drill, a note's questions.

Each set is a list of current question versions handed to the exam engine's own practice attempt (a hidden
practice blueprint per bank, exams/practice_sets.py), with a context that keeps each kind of set apart.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.db.models import Count, Q

from quizapp.bank.models import Bank, Note, Question, Topic
from quizapp.exams import services as exam_services
from quizapp.exams.practice_sets import practice_blueprint
from quizapp.exams.services import allocate_by_weight

from .queries import answered_slots, smoothed

SMART_SIZE = 10
AREA_SIZE = 10
UNSEEN_BOOST = 2.0  # a question never answered is this many times likelier than one answered right before
WRONG_BOOST = 1.5  # one last answered wrong, this many times


@dataclass
class Candidate:
    version_id: int
    domain_number: int
    domain_name: str
    topic_id: int
    topic_name: str
    seen: int = 0
    last_correct: bool | None = None
    weight: float = 1.0


@dataclass
class DrillPlan:
    """The questions drawn and why: the start page shows the reasons before the learner starts."""

    version_ids: list[int]
    reasons: list[str] = field(default_factory=list)
    by_domain: list[tuple[int, str, int, int | None]] = field(default_factory=list)  # number, name, drawn, acc %
    unseen: int = 0


def candidates(user, bank: Bank, now, *, domain_id=None, topic_id=None, note_id=None) -> list[Candidate]:
    """The bank's published questions with the learner's history on each (three queries)."""
    questions = Question.objects.published().filter(bank=bank)
    if domain_id is not None:
        questions = questions.filter(current_version__domain_id=domain_id)
    if topic_id is not None:
        questions = questions.filter(current_version__topic_id=topic_id)
    if note_id is not None:
        questions = questions.filter(current_version__notes=note_id)
    rows = questions.values_list(
        "id",
        "current_version_id",
        "current_version__domain__number",
        "current_version__domain__name",
        "current_version__topic_id",
        "current_version__topic__name",
    ).order_by("key")
    by_question = {
        qid: Candidate(version_id=v, domain_number=dn, domain_name=dname, topic_id=t, topic_name=tname)
        for qid, v, dn, dname, t, tname in rows
    }
    history = (
        answered_slots(user, bank, now)
        .filter(question_version__question_id__in=list(by_question))
        .order_by("attempt__finished_at", "position")
        .values_list("question_version__question_id", "is_correct")
    )
    for question_id, correct in history:
        candidate = by_question[question_id]
        candidate.seen += 1
        candidate.last_correct = bool(correct)
    return list(by_question.values())


def weighted_sample(items: list[Candidate], k: int, rng: random.Random) -> list[Candidate]:
    """k items without repeats, each drawn with probability proportional to its weight (Efraimidis–Spirakis)."""
    keyed = [(rng.random() ** (1 / item.weight), i) for i, item in enumerate(items) if item.weight > 0]
    keyed.sort(reverse=True)
    return [items[i] for _, i in keyed[:k]]


def smart_plan(user, bank: Bank, now, *, seed: int, size: int = SMART_SIZE) -> DrillPlan:
    """A short set drawn toward the learner's weakest domains and topics and toward questions not yet seen.

    The set's questions are first shared out across domains in proportion to the square of each domain's
    weakness (1 - smoothed accuracy; a domain with no answers counts as 50 %), so the weakest domains get most of
    the set; within a domain each question is drawn with weight (1 - smoothed topic accuracy) × a boost if never
    answered (or last answered wrong), without repeats. Seeded, so the start page and Start draw the same set.
    """
    pool = candidates(user, bank, now)
    areas = (
        answered_slots(user, bank, now)
        .values("question_version__domain__number", "question_version__topic_id")
        .annotate(total=Count("id"), correct=Count("id", filter=Q(is_correct=True)))
        .order_by()
    )
    domain_counts: dict[int, list[int]] = {}
    topic_counts: dict[int, list[int]] = {}
    for row in areas:
        for key, bucket in (
            (row["question_version__domain__number"], domain_counts),
            (row["question_version__topic_id"], topic_counts),
        ):
            counts = bucket.setdefault(key, [0, 0])
            counts[0] += row["correct"]
            counts[1] += row["total"]
    by_domain: dict[int, list[Candidate]] = {}
    for c in pool:
        topic_acc = smoothed(*topic_counts.get(c.topic_id, [0, 0]))
        boost = UNSEEN_BOOST if not c.seen else WRONG_BOOST if c.last_correct is False else 1.0
        c.weight = (1 - topic_acc) * boost
        by_domain.setdefault(c.domain_number, []).append(c)
    weakness = {n: (1 - smoothed(*domain_counts.get(n, [0, 0]))) ** 2 for n in by_domain}
    allocation = allocate_by_weight(
        size, {n: max(1, round(1000 * w)) for n, w in weakness.items()}, {n: len(c) for n, c in by_domain.items()}
    )
    rng = random.Random(seed)
    drawn = []
    for number in sorted(by_domain):
        drawn += weighted_sample(by_domain[number], allocation.get(number, 0), rng)
    rng.shuffle(drawn)
    plan = DrillPlan(version_ids=[c.version_id for c in drawn], unseen=sum(not c.seen for c in drawn))
    names = {c.domain_number: c.domain_name for c in pool}
    counts: dict[int, int] = {}
    for c in drawn:
        counts[c.domain_number] = counts.get(c.domain_number, 0) + 1
    for number in sorted(counts, key=lambda n: (-counts[n], n)):
        correct, total = domain_counts.get(number, [0, 0])
        plan.by_domain.append((number, names[number], counts[number], round(100 * correct / total) if total else None))
    weak = sorted((n for n, (c, t) in domain_counts.items() if t), key=lambda n: smoothed(*domain_counts[n]))[:2]
    if weak:
        plan.reasons.append(
            "More questions from your weakest domains: "
            + ", ".join(
                f"{n} {names.get(n, '')} ({round(100 * domain_counts[n][0] / domain_counts[n][1])} % right)"
                for n in weak
            )
            + "."
        )
    else:
        plan.reasons.append("You have no answers here yet, so every domain is equally likely.")
    weak_topics = [c for c in drawn if c.topic_id in topic_counts and smoothed(*topic_counts[c.topic_id]) < 0.5]
    if weak_topics:
        plan.reasons.append(
            "Topics you miss most often: " + ", ".join(sorted({c.topic_name for c in weak_topics})[:4]) + "."
        )
    plan.reasons.append(f"{plan.unseen} of the {len(drawn)} are questions you have not answered before.")
    plan.reasons.append("No question appears twice in the set; each is weighted, so the draw still varies.")
    return plan


def area_plan(user, bank: Bank, now, *, seed: int, domain_id=None, topic_id=None, note_id=None, size=AREA_SIZE):
    """A drill of exactly one domain, topic or note's questions: unseen and missed ones first."""
    pool = candidates(user, bank, now, domain_id=domain_id, topic_id=topic_id, note_id=note_id)
    for c in pool:
        c.weight = UNSEEN_BOOST if not c.seen else WRONG_BOOST if c.last_correct is False else 1.0
    # A note's questions are few: practise exactly those.
    drawn = pool if note_id is not None else weighted_sample(pool, size, random.Random(seed))
    return DrillPlan(version_ids=[c.version_id for c in drawn], unseen=sum(not c.seen for c in drawn))


def drill_start(*, user, bank: Bank, version_ids: list[int], context: str, now):
    """Start (or resume) the learner's practice attempt on exactly these questions."""
    return exam_services.attempt_start(
        user=user, blueprint=practice_blueprint(bank), now=now, version_ids=version_ids, context=context
    )


def topic_of(bank: Bank, topic_id) -> Topic:
    return Topic.objects.get(bank=bank, pk=topic_id)


def note_of(bank: Bank, note_id) -> Note:
    return Note.objects.get(bank=bank, pk=note_id)
