"""Reads of study groups over the engine's attempts: a fixed number of queries whatever the group's size."""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, F, Max, Q
from django.utils.html import format_html

from quizapp.bank.models import Choice, Domain, QuestionVersion
from quizapp.exams.models import Attempt, AttemptSlot, AttemptState

from .models import Assignment, Membership, Seat, Sitting, StudyGroup

# A member whose page has not saved or moved for this long is marked on the proctor view.
STALE_AFTER = timedelta(minutes=1)


def percent(correct, total) -> float | None:
    return round(100 * correct / total, 1) if total else None


# --- The member's view ----------------------------------------------------------------------------------------


@dataclass
class AssignmentForMember:
    assignment: Assignment
    state: str  # upcoming / open / closed
    used: int = 0
    open_attempt_id: object = None
    best: float | None = None
    latest: float | None = None
    live_sitting: Sitting | None = None

    @property
    def attempts_left(self):
        return max(0, self.assignment.attempt_limit - self.used)

    @property
    def passed(self):
        return self.best is not None and self.best >= self.assignment.blueprint.pass_mark_percent


def assignments_for_member(*, user, groups, now: datetime) -> dict[int, list[AssignmentForMember]]:
    """Each group's assignments with this member's own standing, in three queries."""
    assignments = list(
        Assignment.objects.filter(group__in=groups).select_related("blueprint__bank").order_by("closes_at", "pk")
    )
    contexts = {a.attempt_context: a for a in assignments}
    rows = {a.pk: AssignmentForMember(a, a.state_at(now)) for a in assignments}
    attempts = (
        Attempt.objects.filter(user=user, context__in=contexts)
        .order_by("started_at")
        .values_list("context", "pk", "state", "correct_count", "question_count")
    )
    for context, pk, state, correct, total in attempts:
        row = rows[contexts[context].pk]
        row.used += 1
        if state == AttemptState.IN_PROGRESS:
            row.open_attempt_id = pk
        else:
            score = percent(correct or 0, total)
            row.latest = score
            row.best = score if row.best is None else max(row.best, score)
    for sitting in Sitting.objects.filter(assignment__in=assignments).exclude(state=Sitting.State.ENDED):
        rows[sitting.assignment_id].live_sitting = sitting
    by_group = defaultdict(list)
    for row in rows.values():
        by_group[row.assignment.group_id].append(row)
    return by_group


def member_home(*, user, now: datetime):
    """The learner's groups, each with what is assigned and due (for the dashboard), in four queries."""
    groups = list(StudyGroup.objects.joined_by(user).order_by("name"))
    by_group = assignments_for_member(user=user, groups=groups, now=now)
    return [(group, [row for row in by_group.get(group.pk, []) if row.state != "closed"]) for group in groups]


# --- The proctor view -----------------------------------------------------------------------------------------


@dataclass
class ProctorRow:
    username: str
    seat_id: int | None
    joined: bool
    answered: int = 0
    flagged: int = 0
    question_count: int = 0
    position: int | None = None
    minutes_left: int | None = None
    submitted: bool = False
    finish_reason: str = ""
    score: float | None = None
    last_seen: datetime | None = None
    stale: bool = False
    extra_minutes: int = 0
    has_accommodation: bool = False

    @property
    def status(self):
        if not self.joined:
            return "not joined"
        if self.submitted:
            return "finished"
        if self.question_count:
            return "answering"
        return "in the lobby"


# The lobby names the latest arrivals, not everyone: a group of 500 waits in it too, and every poll after an
# arrival sends the list again (the proctor page has the full table).
LOBBY_NAMES_SHOWN = 24


@dataclass
class Lobby:
    count: int
    latest: list[Seat]

    @property
    def more(self) -> int:
        return self.count - len(self.latest)


def lobby(*, sitting: Sitting) -> Lobby:
    """How many are in the lobby and the latest arrivals, newest first (two queries, whatever the group's size)."""
    latest = list(sitting.seats.select_related("user").order_by("-joined_at", "-pk")[:LOBBY_NAMES_SHOWN])
    count = len(latest) if len(latest) < LOBBY_NAMES_SHOWN else sitting.seats.count()
    return Lobby(count=count, latest=latest)


def proctor_rows(*, sitting: Sitting, now: datetime) -> list[ProctorRow]:
    """Every member of the sitting's group: arrived or not, progress, time left, last activity; never an answer.

    Three queries whatever the number of members: the memberships, the seats with their attempts, and the
    answered and flagged counts per attempt.
    """
    members = list(
        Membership.objects.filter(group_id=sitting.assignment.group_id)
        .select_related("user")
        .order_by("user__username")
    )
    seats = {seat.user_id: seat for seat in Seat.objects.filter(sitting=sitting).select_related("attempt")}
    attempt_ids = [seat.attempt_id for seat in seats.values() if seat.attempt_id]
    counts = {
        row["attempt_id"]: row
        for row in AttemptSlot.objects.filter(attempt_id__in=attempt_ids)
        .values("attempt_id")
        .annotate(
            answered=Count("id", filter=~Q(selected_choice_ids=[])),
            flagged=Count("id", filter=Q(flagged=True)),
            last_save=Max("answered_at"),
        )
        .order_by()
    }
    rows = []
    for member in members:
        seat = seats.get(member.user_id)
        row = ProctorRow(
            username=member.user.username,
            seat_id=seat.pk if seat else None,
            joined=seat is not None,
            has_accommodation=member.has_accommodation,
        )
        if seat is not None:
            row.extra_minutes = seat.extra_minutes
            row.last_seen = seat.joined_at
            attempt = seat.attempt
            if attempt is not None:
                count = counts.get(attempt.pk, {})
                row.answered, row.flagged = count.get("answered", 0), count.get("flagged", 0)
                row.question_count, row.position = attempt.question_count, attempt.current_position
                moments = [m for m in (seat.joined_at, attempt.position_entered_at, count.get("last_save")) if m]
                row.last_seen = max(moments)
                row.submitted = not attempt.is_open
                if attempt.is_open:
                    left = attempt.seconds_left(now)
                    row.minutes_left = None if left is None else math.ceil(left / 60)
                    row.stale = now - row.last_seen > STALE_AFTER
                else:
                    row.finish_reason = attempt.get_finish_reason_display()
                    row.score = attempt.score_percent
        rows.append(row)
    return rows


def proctor_token(*, sitting: Sitting, rows: list[ProctorRow]) -> str:
    """A digest of everything the proctor partial shows: the poll gets 204 while it is unchanged."""
    digest = hashlib.blake2s(digest_size=8)
    digest.update(f"{sitting.state}|{sitting.version}".encode())
    for row in rows:
        seen = row.last_seen.isoformat(timespec="seconds") if row.last_seen else ""
        digest.update(
            repr(
                (
                    row.username,
                    row.joined,
                    row.answered,
                    row.flagged,
                    row.position,
                    row.minutes_left,
                    row.submitted,
                    row.stale,
                    row.extra_minutes,
                    row.score,
                    seen,
                )
            ).encode()
        )
    return digest.hexdigest()


# --- Results --------------------------------------------------------------------------------------------------


PILL = {"pass": "pill-good", "not yet": "pill-weak", "in progress": "pill-flag", "not started": "pill-neutral"}


def _score(value) -> str:
    return f"{value:g}%"


@dataclass
class Cell:
    best: float | None = None
    latest: float | None = None
    attempts: int = 0
    in_progress: bool = False
    pass_mark: int = 0

    @property
    def status(self):
        if self.best is not None and self.best >= self.pass_mark:
            return "pass"
        if self.in_progress:
            return "in progress"
        if self.best is not None:
            return "not yet"
        return "not started"

    def html(self):
        """The cell's content, escaped by format_html: a matrix of 4,000 cells renders far faster than with a
        template block per cell."""
        status = self.status
        pill = format_html('<span class="pill {}">{}</span>', PILL[status], status.capitalize())
        if self.best is None:
            return pill
        latest = (
            format_html('<br><span class="muted">latest {}</span>', _score(self.latest))
            if self.latest != self.best
            else ""
        )
        return format_html("<strong>{}</strong>{}<br>{}", _score(self.best), latest, pill)


@dataclass
class Matrix:
    assignments: list[Assignment]
    members: list[Membership]
    cells: dict = field(default_factory=dict)  # (user_id, assignment_id) -> Cell

    def rows(self):
        for member in self.members:
            yield member, [self.cells[(member.user_id, a.pk)] for a in self.assignments]

    def averages(self):
        """Per assignment: the mean of members' best scores and how many passed."""
        result = []
        for assignment in self.assignments:
            bests = [self.cells[(m.user_id, assignment.pk)].best for m in self.members]
            done = [b for b in bests if b is not None]
            passed = sum(1 for b in done if b >= assignment.blueprint.pass_mark_percent)
            result.append(
                {
                    "assignment": assignment,
                    "mean": round(sum(done) / len(done), 1) if done else None,
                    "finished": len(done),
                    "passed": passed,
                }
            )
        return result


def results_matrix(*, group: StudyGroup) -> Matrix:
    """Members × assignments: best and latest score and the status of each cell, in three queries."""
    assignments = list(group.assignments.select_related("blueprint").order_by("opens_at", "pk"))
    members = list(group.memberships.select_related("user").order_by("user__username"))
    matrix = Matrix(assignments, members)
    by_context = {a.attempt_context: a for a in assignments}
    for member in members:
        for assignment in assignments:
            matrix.cells[(member.user_id, assignment.pk)] = Cell(pass_mark=assignment.blueprint.pass_mark_percent)
    member_ids = {m.user_id for m in members}
    attempts = (
        Attempt.objects.filter(context__in=by_context)
        .order_by("started_at")
        .values_list("user_id", "context", "state", "correct_count", "question_count")
    )
    for user_id, context, state, correct, total in attempts.iterator(chunk_size=5000):
        if user_id not in member_ids:
            continue  # a member who left: their attempts stay theirs but leave the group's table
        cell = matrix.cells[(user_id, by_context[context].pk)]
        cell.attempts += 1
        if state == AttemptState.IN_PROGRESS:
            cell.in_progress = True
        else:
            score = percent(correct or 0, total)
            cell.latest = score
            cell.best = score if cell.best is None else max(cell.best, score)
    return matrix


@dataclass
class HeatRow:
    label: str
    cells: list  # (percent or None, answers) per domain


def domain_heatmap(*, group: StudyGroup, user=None) -> tuple[list[Domain], list[HeatRow]]:
    """The group's accuracy per domain, for each assignment and overall (finished attempts; one member if `user`).

    Two queries: the per-(assignment, domain) counts, and the domains they name.
    """
    assignments = list(group.assignments.select_related("blueprint").order_by("opens_at", "pk"))
    by_context = {a.attempt_context: a for a in assignments}
    slots = AttemptSlot.objects.filter(
        attempt__context__in=by_context,
        attempt__state=AttemptState.FINISHED,
        attempt__user__memberships__group=group,
    )
    if user is not None:
        slots = slots.filter(attempt__user=user)
    counts = (
        slots.values(context=F("attempt__context"), domain=F("question_version__domain_id"))
        .annotate(total=Count("id"), correct=Count("id", filter=Q(is_correct=True)))
        .order_by()
    )
    table = defaultdict(lambda: [0, 0])
    for row in counts:
        table[(row["context"], row["domain"])] = [row["correct"], row["total"]]
    domains = list(Domain.objects.filter(pk__in={domain for _, domain in table}).order_by("bank_id", "number"))
    rows = []
    overall = defaultdict(lambda: [0, 0])
    for assignment in assignments:
        cells = []
        for domain in domains:
            correct, total = table.get((assignment.attempt_context, domain.pk), (0, 0))
            overall[domain.pk][0] += correct
            overall[domain.pk][1] += total
            cells.append((percent(correct, total), total))
        rows.append(HeatRow(assignment.blueprint.title, cells))
    if len(assignments) > 1:
        rows.append(HeatRow("All assignments", [(percent(*overall[d.pk]), overall[d.pk][1]) for d in domains]))
    return domains, rows


def heat_class(value) -> str:
    """A band for the heat map's colour; the number is always printed too."""
    if value is None:
        return "heat-none"
    return "heat-" + str(min(4, int(value // 20)))


def leaderboard(*, group: StudyGroup, matrix: Matrix) -> list[tuple[str, float, int]]:
    """Opted-in members by the mean of their best scores over the assignments they finished."""
    board = []
    for member, cells in matrix.rows():
        if not member.leaderboard_opt_in:
            continue
        bests = [cell.best for cell in cells if cell.best is not None]
        if bests:
            board.append((member.user.username, round(sum(bests) / len(bests), 1), len(bests)))
    return sorted(board, key=lambda entry: (-entry[1], entry[0]))


# --- Debrief --------------------------------------------------------------------------------------------------


@dataclass
class DebriefOption:
    letter: str
    text: str
    is_correct: bool
    rationale: str
    chosen: int


@dataclass
class DebriefQuestion:
    key: str
    version: object
    responses: int
    correct: int
    options: list[DebriefOption]

    @property
    def facility(self):
        return percent(self.correct, self.responses)


def debrief(*, attempts) -> list[DebriefQuestion]:
    """Each question the finished attempts drew, with how many chose each option, hardest first.

    Three queries: the slots (question version, selection, correctness), the versions, their choices.
    """
    slots = AttemptSlot.objects.filter(attempt__in=attempts, attempt__state=AttemptState.FINISHED).values_list(
        "question_version_id", "selected_choice_ids", "is_correct"
    )
    responses, correct, chosen = defaultdict(int), defaultdict(int), defaultdict(int)
    for version_id, selected, is_correct in slots.iterator(chunk_size=5000):
        responses[version_id] += 1
        correct[version_id] += bool(is_correct)
        for choice_id in selected:
            chosen[choice_id] += 1
    versions = QuestionVersion.objects.filter(pk__in=responses).select_related("question", "domain", "topic")
    choices = defaultdict(list)
    for choice in Choice.objects.filter(version_id__in=responses).order_by("position", "pk"):
        choices[choice.version_id].append(choice)
    questions = []
    for version in versions:
        options = [
            DebriefOption(chr(ord("A") + i), c.text, c.is_correct, c.rationale, chosen.get(c.pk, 0))
            for i, c in enumerate(choices[version.pk])
        ]
        questions.append(
            DebriefQuestion(version.question.key, version, responses[version.pk], correct[version.pk], options)
        )
    return sorted(questions, key=lambda q: (q.facility if q.facility is not None else 101, q.key))
