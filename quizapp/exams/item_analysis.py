"""Item analysis of a bank's questions (Moodle's quiz statistics), computed by the database.

Only finished attempts count, and for each learner and question only the learner's first exposure: the slot of
the first attempt they finished that drew any version of the question. "First" is the order in which attempts
were finished: attempt_finish marks the slot (AttemptSlot.is_first_exposure) when the learner has no finished
slot of the question yet, so a later finish never changes which response counts. A question seen again in a later
attempt counts once, as Moodle's "first attempts" statistics do, so practice on a known question does not inflate
its facility.

For one question over its n first-exposure responses, with x the item score (1 correct, 0 not) and
y = (attempt.correct_count - x) / (attempt.question_count - 1) the score on the rest of the attempt:

- facility = Σx / n;
- discrimination = Pearson's r(x, y)
  = (n·Σxy - Σx·Σy) / √((n·Σx² - (Σx)²)·(n·Σy² - (Σy)²)), None when a variance is 0 or n < 2;
- discriminative efficiency = discrimination / the largest discrimination attainable with the same item scores
  and the same rest scores, which is Moodle's covariance / covariancemax: covariancemax pairs the item scores and
  the rest scores each sorted on its own, so for a 0/1 item with k = Σx correct it gives the k highest rest
  scores to the k correct responses. With T = the sum of the k highest y,
  efficiency = (n·Σxy - Σx·Σy) / (n·T - Σx·Σy), None when the denominator is 0 (k = 0, k = n, or all y equal).

The rest score needs at least two questions in the attempt, so discrimination and efficiency use the responses
of attempts with two or more questions; facility, counts and the median time use every first exposure. An
unanswered slot of a finished attempt is a response with x = 0 and no choice.

How it is computed: one query reads the first exposures (a filter on the stored flag) and runs window functions
over them, returning only a few rows per question: integer sums per question, version and attempt length (Σx,
Σr, Σr², Σx·r with r = correct_count - x, so y = r / (length - 1)), the running sum of rest scores at the k-th
best (in integer units of 1e-9, see REST_SCALE), and the middle times. A second query
counts the selected choices. The database sums integers only and Python adds a question's groups as exact
fractions, so every figure is the same to the last bit on SQLite and PostgreSQL, whatever order either database
sums in. Python loops only over these per-question rows, never over responses.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

from django.db import NotSupportedError, connections
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    Min,
    Q,
    QuerySet,
    RowRange,
    Sum,
    When,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, NullIf, RowNumber

from quizapp.bank.models import Choice, Question

from .models import AttemptSlot

# Below this many first-exposure responses a question's figures are noise: it gets "not enough data" only.
MIN_RESPONSES = 30
VERY_HARD_BELOW = 0.20
VERY_EASY_ABOVE = 0.90
WEAK_DISCRIMINATION_BELOW = 0.20
WRONG_KEY_BELOW = 0.0
RARE_DISTRACTOR_BELOW = 0.05

FLAG_NOT_ENOUGH_DATA = "not enough data"
FLAG_VERY_HARD = "very hard"
FLAG_VERY_EASY = "very easy"
FLAG_WEAK_DISCRIMINATION = "weak discrimination"
FLAG_WRONG_KEY = "probable wrong key"
FLAG_RARE_DISTRACTOR = "distractor rarely chosen"


@dataclass
class OptionStat:
    """How often one choice was selected in first exposures.

    `share` is `count` over the first exposures to this choice's own version (the responses that showed it), so
    the shares of a multiple-response question add up to more than 1; None when that version has no response.
    """

    choice_id: int
    text: str
    is_correct: bool
    count: int
    share: float | None
    version_number: int = 0  # which version of the question the choice belongs to, for listing them apart


@dataclass
class ItemStats:
    """One question's figures; `answered` counts first exposures, an unanswered slot included."""

    question_id: int
    key: str
    answered: int
    facility: float | None
    discrimination: float | None
    discriminative_efficiency: float | None
    median_seconds: float | None
    option_counts: list[OptionStat] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def bank_item_analysis(bank_id) -> list[ItemStats]:
    """Item statistics for every question of a bank, answered or not, in key order.

    Four queries however many questions or responses: the questions, their choices, the window functions over
    the first exposures (_summary_rows) and the count per selected choice (_choice_counts). Every per-response
    computation happens inside the last two, which return rows per question or per choice, never per response;
    so the number of queries never grows with the data.
    """
    questions = list(Question.objects.filter(bank_id=bank_id).order_by("key").values_list("id", "key"))
    return _analyse(
        questions,
        choices=Choice.objects.filter(version__question__bank_id=bank_id),
        slots=AttemptSlot.objects.filter(question_version__question__bank_id=bank_id),
    )


def question_item_analysis(question_id) -> ItemStats:
    """Item statistics for one question, in the same four queries as a whole bank; Question.DoesNotExist if none."""
    question = Question.objects.values_list("id", "key").get(pk=question_id)
    [stats] = _analyse(
        [question],
        choices=Choice.objects.filter(version__question_id=question_id),
        slots=AttemptSlot.objects.filter(question_version__question_id=question_id),
    )
    return stats


# Constants written into the SQL rather than bound as parameters: SQLite computes two window functions in one
# pass only when their ORDER BY expressions are identical, and two bound parameters never are.
_ZERO = RawSQL("0", (), output_field=IntegerField())
_ONE = RawSQL("1", (), output_field=IntegerField())
_NO_REST = RawSQL("-1.0", (), output_field=FloatField())

# Expressions over a slot: the item score x and the rest-of-attempt correct count r = correct_count - x.
_SCORE = Case(When(is_correct=True, then=_ONE), default=_ZERO, output_field=IntegerField())
_REST = F("attempt__correct_count") - _SCORE
_QUESTION = F("question_version__question_id")
_LENGTH = F("attempt__question_count")
_HAS_REST = Q(attempt__question_count__gt=1)
# The rest score y as a sort key, best first; -1 for attempts of one question (no rest score), never among the
# k best.
_REST_KEY = Coalesce(
    Cast(_REST, FloatField()) / Cast(NullIf(_LENGTH - _ONE, _ZERO), FloatField()),
    _NO_REST,
)
# The k best rest scores are a running sum, added up in integer units of 1e-9 (each y rounded down): exact and
# the same on both databases, and short of the true sum by less than k * 1e-9.
REST_SCALE = 10**9


def first_exposures(slots: QuerySet[AttemptSlot]) -> QuerySet[AttemptSlot]:
    """The slots among `slots` that are a learner's first finished exposure to their question (one per pair)."""
    return slots.filter(is_first_exposure=True).order_by()


def _summary_rows(first: QuerySet[AttemptSlot]):
    """The few rows per question that carry its figures, picked from window functions over the first exposures.

    One query, whatever the number of questions: the first row of each (question, version, attempt length)
    carries that group's integer sums; the row ranked k-th by rest score (k = correct responses that have one)
    carries the running sum of the k best rest scores; the one or two rows in the middle by time carry the time
    the median is made of. Ranks and running sums share one frame, so that SQLite computes each ordering in one
    pass.
    """
    group = [_QUESTION, F("question_version_id"), _LENGTH]
    scaled_rest = Case(
        When(_HAS_REST, then=Cast(_REST, BigIntegerField()) * REST_SCALE / (_LENGTH - _ONE)),
        default=_ZERO,
        output_field=BigIntegerField(),
    )
    running = RowRange(start=None, end=0)
    by_rest = {"partition_by": [_QUESTION], "order_by": [_REST_KEY.desc(), F("pk").asc()], "frame": running}
    by_time = {"partition_by": [_QUESTION], "order_by": [F("seconds_spent").asc(), F("pk").asc()], "frame": running}
    return (
        AttemptSlot.objects.filter(pk__in=first.values("pk"))
        .annotate(
            group_first=Window(Min("pk"), partition_by=group),
            n=Window(Count("pk"), partition_by=group),
            sx=Window(Sum(_SCORE), partition_by=group),
            sr=Window(Sum(_REST), partition_by=group),
            srr=Window(Sum(_REST * _REST), partition_by=group),
            sxr=Window(Sum(_SCORE * _REST), partition_by=group),
            answered=Window(Count("pk"), partition_by=[_QUESTION]),
            correct_with_rest=Window(
                Sum(Case(When(_HAS_REST, then=_SCORE), default=_ZERO, output_field=IntegerField())),
                partition_by=[_QUESTION],
            ),
            rest_rank=Window(RowNumber(), **by_rest),
            top=Window(Sum(scaled_rest), **by_rest),
            time_rank=Window(RowNumber(), **by_time),
        )
        .filter(
            Q(pk=F("group_first"))
            | Q(rest_rank=F("correct_with_rest"))
            | Q(time_rank=(F("answered") + 1) / 2)
            | Q(time_rank=(F("answered") + 2) / 2)
        )
        .values(
            "pk",
            "group_first",
            "n",
            "sx",
            "sr",
            "srr",
            "sxr",
            "answered",
            "correct_with_rest",
            "rest_rank",
            "top",
            "time_rank",
            "seconds_spent",
            question=_QUESTION,
            version=F("question_version_id"),
            length=_LENGTH,
        )
        .order_by()
    )


def _choice_counts(first: QuerySet[AttemptSlot]) -> dict[int, int]:
    """How many first exposures selected each choice id, counted by the database from the JSON lists (one query).

    The JSON lists are expanded by each database's own table function (PostgreSQL's jsonb_array_elements_text,
    SQLite's json_each) over the first-exposure query, which the ORM compiles with its parameters. A choice is
    counted once per response: the save service refuses a list that names a choice twice.
    """
    connection = connections[first.db]
    first_sql, params = first.values("selected_choice_ids").query.get_compiler(connection=connection).as_sql()
    selected = f"f.{connection.ops.quote_name('selected_choice_ids')}"
    if connection.vendor == "postgresql":
        picked = f"CROSS JOIN LATERAL jsonb_array_elements_text({selected}) AS picked(value)"
        choice_id = "CAST(picked.value AS bigint)"
    elif connection.vendor == "sqlite":
        picked = f"CROSS JOIN json_each({selected}) AS picked"
        choice_id = "CAST(picked.value AS integer)"
    else:
        raise NotSupportedError(f"item analysis counts choices on SQLite and PostgreSQL, not {connection.vendor}")
    # Only a column name and SQL the ORM compiled are interpolated; every value stays a query parameter.
    sql = f"SELECT {choice_id}, COUNT(*) FROM ({first_sql}) AS f {picked} GROUP BY {choice_id}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


@dataclass
class _Sums:
    """A question's sums as exact numbers: the y sums are fractions, since y = r / (length - 1)."""

    answered: int = 0
    correct: int = 0
    middle: dict[int, int] = field(default_factory=dict)  # time rank: seconds, for the one or two middle ranks
    n: int = 0  # responses with a rest score (attempts of two or more questions)
    sx: int = 0
    sy: Fraction = Fraction(0)
    syy: Fraction = Fraction(0)
    sxy: Fraction = Fraction(0)
    top: Fraction = Fraction(0)
    by_version: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, row):
        """Take what `row` carries: its group's sums, the top-k running sum, the middle time (or several)."""
        if row["pk"] == row["group_first"]:
            self.answered += row["n"]
            self.correct += row["sx"]
            self.by_version[row["version"]] += row["n"]
            others = row["length"] - 1
            if others > 0:
                self.n += row["n"]
                self.sx += row["sx"]
                self.sy += Fraction(row["sr"], others)
                self.syy += Fraction(row["srr"], others * others)
                self.sxy += Fraction(row["sxr"], others)
        if row["rest_rank"] == row["correct_with_rest"]:
            self.top = Fraction(int(row["top"]), REST_SCALE)
        if row["time_rank"] in ((row["answered"] + 1) // 2, (row["answered"] + 2) // 2):
            self.middle[row["time_rank"]] = row["seconds_spent"]

    def median_seconds(self) -> float | None:
        return sum(self.middle.values()) / len(self.middle) if self.middle else None

    def discrimination(self) -> float | None:
        n, sx, sy = self.n, self.sx, self.sy
        variance_x = n * sx - sx * sx  # Σx² = Σx for a 0/1 score
        variance_y = n * self.syy - sy * sy
        if n < 2 or variance_x <= 0 or variance_y <= 0:
            return None
        return float(n * self.sxy - sx * sy) / math.sqrt(variance_x * variance_y)

    def efficiency(self) -> float | None:
        attainable = self.n * self.top - self.sx * self.sy
        if self.n < 2 or attainable <= 0:
            return None
        return float((self.n * self.sxy - self.sx * self.sy) / attainable)


def _analyse(questions, *, choices, slots) -> list[ItemStats]:
    first = first_exposures(slots)
    sums: dict[int, _Sums] = defaultdict(_Sums)
    for row in _summary_rows(first):
        sums[row["question"]].add(row)
    counts = _choice_counts(first)
    options: dict[int, list[tuple[OptionStat, int]]] = defaultdict(list)
    for choice in choices.order_by("version__number", "position", "id").values(
        "id", "text", "is_correct", "version_id", "version__number", "version__question_id"
    ):
        seen = sums[choice["version__question_id"]].by_version.get(choice["version_id"], 0)
        count = counts.get(choice["id"], 0)
        option = OptionStat(
            choice_id=choice["id"],
            text=choice["text"],
            is_correct=choice["is_correct"],
            count=count,
            share=count / seen if seen else None,
            version_number=choice["version__number"],
        )
        options[choice["version__question_id"]].append((option, seen))
    return [_item(question_id, key, sums[question_id], options[question_id]) for question_id, key in questions]


def _item(question_id, key, sums: _Sums, options: list[tuple[OptionStat, int]]) -> ItemStats:
    stats = ItemStats(
        question_id=question_id,
        key=key,
        answered=sums.answered,
        facility=sums.correct / sums.answered if sums.answered else None,
        discrimination=sums.discrimination(),
        discriminative_efficiency=sums.efficiency(),
        median_seconds=sums.median_seconds(),
        option_counts=[option for option, _ in options],
    )
    # A distractor is judged only on a version shown often enough: an old version's few responses say nothing.
    rare = any(
        not option.is_correct and seen >= MIN_RESPONSES and option.share < RARE_DISTRACTOR_BELOW
        for option, seen in options
    )
    stats.flags = _flags(stats, rare_distractor=rare)
    return stats


def _flags(stats: ItemStats, *, rare_distractor: bool) -> list[str]:
    """What an instructor should look at; below MIN_RESPONSES responses only that there is too little data."""
    if stats.answered < MIN_RESPONSES:
        return [FLAG_NOT_ENOUGH_DATA]
    flags = []
    if stats.facility < VERY_HARD_BELOW:
        flags.append(FLAG_VERY_HARD)
    elif stats.facility > VERY_EASY_ABOVE:
        flags.append(FLAG_VERY_EASY)
    if stats.discrimination is not None:
        # A negative correlation is the stronger finding: it replaces "weak" rather than joining it.
        if stats.discrimination < WRONG_KEY_BELOW:
            flags.append(FLAG_WRONG_KEY)
        elif stats.discrimination < WEAK_DISCRIMINATION_BELOW:
            flags.append(FLAG_WEAK_DISCRIMINATION)
    if rare_distractor:
        flags.append(FLAG_RARE_DISTRACTOR)
    return flags
