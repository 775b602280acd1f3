"""Reads for the dashboard, history and notes: each a fixed number of queries however many attempts there are.

Everything is about one learner and one bank (domains, topics and notes belong to a bank). Answers count only
from finished attempts whose review is open: an assignment that hides its answers until it closes must not
leak them through a topic's accuracy or a note's mastery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Max, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from quizapp.bank.models import Bank, Domain, Note
from quizapp.exams.models import Attempt, AttemptSlot, ExamBlueprint

SCORE_POINTS = 30
TREND_WEEKS = 8


def visible_attempts(user, bank: Bank, now: datetime) -> dict:
    """The learner's finished attempts of the bank whose review is open: id -> (finished_at, mode)."""
    rows = (
        Attempt.objects.for_user(user)
        .finished()
        .filter(blueprint__bank_id=bank.pk)
        .filter(Q(review_opens_at__isnull=True) | Q(review_opens_at__lte=now))
        .values_list("id", "finished_at", "mode")
    )
    return {attempt_id: (finished_at, mode) for attempt_id, finished_at, mode in rows}


def answered_slots(user, bank: Bank, now: datetime, *, attempts: dict | None = None):
    """The learner's answered questions of the bank, in finished attempts whose review is open.

    Filtered by a list of attempt ids rather than a join: PostgreSQL then reads the learner's slots by index
    instead of scanning everyone's (a join made it choose the scan).
    """
    if attempts is None:
        attempts = visible_attempts(user, bank, now)
    return AttemptSlot.objects.filter(attempt_id__in=list(attempts)).exclude(selected_choice_ids=[])


def smoothed(correct: int, total: int) -> float:
    """Accuracy with one imagined right and one wrong answer (a Beta(1, 1) prior), for ranking small counts."""
    return (correct + 1) / (total + 2)


def percent(correct: int, total: int) -> int | None:
    return round(100 * correct / total) if total else None


# --- Which bank the dashboard is about ------------------------------------------------------------------------


def learner_banks(user) -> list[Bank]:
    """Banks the learner has finished attempts in, most recent first, then the other published banks."""
    recent = (
        Attempt.objects.for_user(user)
        .finished()
        .values("blueprint__bank_id")
        .annotate(last=Max("finished_at"))
        .order_by("-last")
    )
    order = [row["blueprint__bank_id"] for row in recent]
    banks = {bank.pk: bank for bank in Bank.objects.filter(Q(pk__in=order) | Q(status=Bank.Status.PUBLISHED))}
    ranked = [banks[pk] for pk in order if pk in banks]
    return ranked + sorted((b for pk, b in banks.items() if pk not in order), key=lambda b: b.title)


def stats_version(user, bank: Bank) -> str:
    """Changes whenever a finished attempt of the bank is added: the key of the cached dashboard figures."""
    row = (
        Attempt.objects.for_user(user)
        .finished()
        .filter(blueprint__bank=bank)
        .aggregate(n=Count("id"), last=Max("finished_at"))
    )
    return f"{row['n']}-{int(row['last'].timestamp() * 1000) if row['last'] else 0}"


# --- Scores over time -----------------------------------------------------------------------------------------


@dataclass
class ScorePoint:
    attempt_id: str
    title: str
    finished_at: datetime
    correct: int
    total: int
    pass_mark: int
    detail: str = ""

    @property
    def percent(self) -> float:
        return round(100 * self.correct / self.total, 1) if self.total else 0.0

    @property
    def passed(self) -> bool:
        return self.percent >= self.pass_mark


def score_history(user, bank: Bank, *, limit: int = SCORE_POINTS) -> dict[str, list[ScorePoint]]:
    """The learner's latest finished attempts per mode (timed; practice drills), oldest first, in one query."""
    rows = (
        Attempt.objects.for_user(user)
        .finished()
        .filter(blueprint__bank=bank)
        .annotate(
            latest=Window(RowNumber(), partition_by=[F("mode")], order_by=[F("finished_at").desc(), F("id").desc()])
        )
        .filter(latest__lte=limit)
        .values(
            "id",
            "mode",
            "blueprint__title",
            "chosen_domain__name",
            "context",
            "finished_at",
            "correct_count",
            "question_count",
            "pass_mark_percent",
        )
    )
    series: dict[str, list[ScorePoint]] = {mode: [] for mode in ExamBlueprint.Mode.values}
    for row in rows:
        series.setdefault(row["mode"], []).append(
            ScorePoint(
                attempt_id=str(row["id"]),
                title=row["blueprint__title"],
                finished_at=row["finished_at"],
                correct=row["correct_count"] or 0,
                total=row["question_count"],
                pass_mark=row["pass_mark_percent"],
                detail=row["chosen_domain__name"] or context_label(row["context"]),
            )
        )
    for points in series.values():
        points.sort(key=lambda p: (p.finished_at, p.attempt_id))
    return series


def context_label(context: str) -> str:
    kind = context.split(":", 1)[0]
    return {
        "review": "Review of mistakes",
        "smart-drill": "Smart drill",
        "note": "Notes drill",
        "topic": "Topic drill",
        "domain": "Domain drill",
        "assignment": "Assignment",
    }.get(kind, "")


# --- Domains and topics ---------------------------------------------------------------------------------------


@dataclass
class AreaStat:
    """Accuracy on one domain or topic: the weak-areas list and the trends."""

    kind: str  # "domain" or "topic"
    id: int
    name: str
    number: int | None = None
    correct: int = 0
    total: int = 0
    weekly: list[tuple[date, int, int]] = field(default_factory=list)  # (week start, correct, total)

    @property
    def percent(self) -> int | None:
        return percent(self.correct, self.total)

    @property
    def rank_key(self):
        return (smoothed(self.correct, self.total), -self.total, self.number or 0, self.name)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def domain_stats(
    user, bank: Bank, now: datetime, *, domains=None, attempts: dict | None = None, weeks: int = TREND_WEEKS
) -> list[AreaStat]:
    """Every domain of the bank with the learner's accuracy overall and per week (last `weeks` weeks)."""
    if domains is None:
        domains = Domain.objects.filter(bank=bank).order_by("number")
    if attempts is None:
        attempts = visible_attempts(user, bank, now)
    domains = {d.pk: AreaStat(kind="domain", id=d.pk, name=d.name, number=d.number) for d in domains}
    # Grouped by attempt, not by answer: a few rows per attempt, bucketed into the learner's weeks here. (One
    # query grouped by topic as well gave thousands of rows, slower to read than two small aggregates.)
    rows = (
        answered_slots(user, bank, now, attempts=attempts)
        .values_list("attempt_id", "question_version__domain_id")
        .annotate(total=Count("id"), correct=Count("id", filter=Q(is_correct=True)))
        .order_by()
    )
    this_week = week_start(timezone.localdate(now))
    starts = [this_week - timedelta(weeks=i) for i in range(weeks - 1, -1, -1)]
    buckets = {pk: {start: [0, 0] for start in starts} for pk in domains}
    week_of = {pk: week_start(timezone.localdate(finished)) for pk, (finished, _) in attempts.items()}
    for attempt_id, domain_id, total, correct in rows:
        stat = domains.get(domain_id)
        if stat is None:
            continue
        stat.correct += correct
        stat.total += total
        bucket = buckets[domain_id].get(week_of[attempt_id])
        if bucket is not None:
            bucket[0] += correct
            bucket[1] += total
    for pk, stat in domains.items():
        stat.weekly = [(start, c, t) for start, (c, t) in buckets[pk].items()]
    return list(domains.values())


def topic_stats(user, bank: Bank, now: datetime, *, attempts: dict | None = None) -> list[AreaStat]:
    """Topics the learner has answered questions on, with their accuracy."""
    rows = (
        answered_slots(user, bank, now, attempts=attempts)
        .values_list("question_version__topic_id", "question_version__topic__name")
        .annotate(total=Count("id"), correct=Count("id", filter=Q(is_correct=True)))
        .order_by()
    )
    return [
        AreaStat(kind="topic", id=topic_id, name=name, correct=correct, total=total)
        for topic_id, name, total, correct in rows
    ]


def weakest(stats: list[AreaStat], *, limit: int) -> list[AreaStat]:
    """The areas with answers, weakest first (by smoothed accuracy, so 0 of 1 is not the weakest of all)."""
    return sorted((s for s in stats if s.total), key=lambda s: s.rank_key)[:limit]


# --- This week ------------------------------------------------------------------------------------------------


@dataclass
class WeekStudy:
    since: date
    seconds: int
    answered: int
    attempts: int


def study_this_week(user, now: datetime) -> WeekStudy:
    """Time on questions and answers given since Monday of the learner's week (open attempts count too)."""
    since = week_start(timezone.localdate(now))
    start = timezone.make_aware(datetime.combine(since, datetime.min.time()))
    row = AttemptSlot.objects.filter(attempt__user=user, attempt__started_at__gte=start).aggregate(
        seconds=Sum("seconds_spent"),
        answered=Count("id", filter=~Q(selected_choice_ids=[])),
        attempts=Count("attempt_id", distinct=True),
    )
    return WeekStudy(since=since, seconds=row["seconds"] or 0, answered=row["answered"], attempts=row["attempts"])


def end_of_today(now: datetime) -> datetime:
    """The end of the learner's day (their time zone), for "due today"."""
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    return timezone.make_aware(datetime.combine(tomorrow, datetime.min.time()))


# --- History --------------------------------------------------------------------------------------------------


def history_attempts(user, *, blueprint: ExamBlueprint | None = None, mode="", since=None, until=None):
    """The learner's finished attempts, newest first, filtered by exam, mode and local dates (inclusive)."""
    attempts = (
        Attempt.objects.for_user(user)
        .finished()
        .select_related("blueprint__bank", "chosen_domain")
        .order_by("-finished_at", "pk")
    )
    if blueprint is not None:
        attempts = attempts.filter(blueprint=blueprint)
    if mode:
        attempts = attempts.filter(mode=mode)
    if since:
        attempts = attempts.filter(finished_at__gte=timezone.make_aware(datetime.combine(since, datetime.min.time())))
    if until:
        next_day = until + timedelta(days=1)
        attempts = attempts.filter(finished_at__lt=timezone.make_aware(datetime.combine(next_day, datetime.min.time())))
    return attempts


# --- Notes ----------------------------------------------------------------------------------------------------


@dataclass
class NoteMastery:
    note: Note
    questions: int  # published questions whose current version cites the note
    correct: int = 0
    total: int = 0

    @property
    def percent(self) -> int | None:
        return percent(self.correct, self.total)


def notes_mastery(user, bank: Bank, now: datetime) -> list[tuple[str, list[NoteMastery]]]:
    """The bank's notes by section (heading), each with the learner's accuracy on questions citing it."""
    notes = list(
        Note.objects.filter(bank=bank)
        .annotate(
            questions=Count(
                "question_versions__question",
                filter=Q(question_versions__question__status="published")
                & Q(question_versions__question__current_version=F("question_versions")),
                distinct=True,
            )
        )
        .order_by("position")
    )
    rows = (
        answered_slots(user, bank, now)
        .filter(question_version__notes__isnull=False)
        .values("question_version__notes")
        .annotate(total=Count("id"), correct=Count("id", filter=Q(is_correct=True)))
        .order_by()
    )
    answers = {row["question_version__notes"]: row for row in rows}
    sections: dict[str, list[NoteMastery]] = {}
    for note in notes:
        row = answers.get(note.pk, {"correct": 0, "total": 0})
        item = NoteMastery(note=note, questions=note.questions, correct=row["correct"], total=row["total"])
        sections.setdefault(note.heading, []).append(item)
    return list(sections.items())
