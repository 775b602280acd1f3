"""Item analysis of a bank's questions (Moodle's quiz statistics), computed by the database.

Only finished attempts count, and for each learner and question only the learner's first exposure: the slot of
their earliest finished attempt (by `started_at`) that drew any version of the question. A question seen again
in a later attempt counts once, as Moodle's "first attempts" statistics do, so practice on a known question does
not inflate its facility.

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
of attempts with two or more questions; facility, counts and the median time use every first exposure.

The database returns integer sums only, grouped by question, version and attempt length: Σx, Σr, Σr², Σx·r and
the top-k Σr, with r = correct_count - x (so y = r / (length - 1)). Python adds the groups of a question as exact
fractions, so the figures are the same to the last bit on SQLite and PostgreSQL, whatever order either database
sums in. Python loops only over these per-question rows, never over responses.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

from django.db import NotSupportedError, connections
from django.db.models import Case, Count, F, FloatField, IntegerField, Q, QuerySet, Sum, Value, When, Window
from django.db.models.functions import Cast, Coalesce, NullIf, RowNumber

from quizapp.bank.models import Choice, Question

from .models import AttemptSlot, AttemptState

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
    version_number: int = 0


@dataclass
class ItemStats:
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

    Four queries however many questions or responses: the questions, their choices, one aggregate over the
    first exposures (grouped by question, version and attempt length) and one count per selected choice. Every
    per-response computation happens inside those queries, so the count never grows with the data.
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


# Expressions over a slot: the item score x and the rest-of-attempt correct count r = correct_count - x.
_SCORE = Case(When(is_correct=True, then=Value(1)), default=Value(0), output_field=IntegerField())
_REST = F("attempt__correct_count") - _SCORE
_QUESTION = F("question_version__question_id")
_LENGTH = F("attempt__question_count")


def first_exposures(slots: QuerySet[AttemptSlot]) -> QuerySet[AttemptSlot]:
    """The slots among `slots` that are a learner's first finished exposure to their question (one per pair)."""
    return (
        slots.filter(attempt__state=AttemptState.FINISHED)
        .annotate(
            exposure=Window(
                RowNumber(),
                partition_by=[F("attempt__user_id"), _QUESTION],
                # Attempt id and position only break ties, so that exactly one slot is first.
                order_by=[F("attempt__started_at").asc(), F("attempt_id").asc(), F("position").asc()],
            )
        )
        .filter(exposure=1)
    )


def _aggregates(responses: QuerySet[AttemptSlot]):
    """Integer sums per question, version and attempt length, over `responses` (one query)."""
    rest_score = Cast(_REST, FloatField()) / Cast(NullIf(_LENGTH - 1, 0), FloatField())
    with_rest = Q(attempt__question_count__gt=1)
    ranked = responses.annotate(
        # Highest rest score first; attempts of one question (no rest score) last, so they are never in the top k.
        rest_rank=Window(
            RowNumber(),
            partition_by=[_QUESTION],
            order_by=[Coalesce(rest_score, Value(-1.0)).desc(), F("pk").asc()],
        ),
        correct_with_rest=Window(
            Sum(Case(When(with_rest, then=_SCORE), default=Value(0), output_field=IntegerField())),
            partition_by=[_QUESTION],
        ),
        time_rank=Window(RowNumber(), partition_by=[_QUESTION], order_by=[F("seconds_spent").asc(), F("pk").asc()]),
        total=Window(Count("pk"), partition_by=[_QUESTION]),
    )
    # The k best rest scores, k being the number of correct responses (covariancemax's pairing).
    top_rest = ranked.filter(rest_rank__lte=F("correct_with_rest")).values("pk")
    # The middle one or two by time: positions floor((n + 1) / 2) and floor((n + 2) / 2), integer division.
    middle = ranked.filter(Q(time_rank=(F("total") + 1) / 2) | Q(time_rank=(F("total") + 2) / 2)).values("pk")
    return (
        responses.values(question=_QUESTION, version=F("question_version_id"), length=_LENGTH)
        .annotate(
            n=Count("pk"),
            sx=Sum(_SCORE),
            sr=Sum(_REST),
            srr=Sum(_REST * _REST),
            sxr=Sum(_SCORE * _REST),
            top=Sum(_REST, filter=Q(pk__in=top_rest)),
            middle_seconds=Sum("seconds_spent", filter=Q(pk__in=middle)),
        )
        .order_by()
    )


def _choice_counts(responses: QuerySet[AttemptSlot]) -> dict[int, int]:
    """How many of `responses` selected each choice id, counted by the database from the JSON lists (one query)."""
    connection = connections[responses.db]
    ids_sql, params = responses.values("pk").query.get_compiler(connection=connection).as_sql()
    table = connection.ops.quote_name(AttemptSlot._meta.db_table)
    column = connection.ops.quote_name(AttemptSlot._meta.get_field("selected_choice_ids").column)
    # Only identifiers and SQL the ORM compiled are interpolated; every value stays a query parameter.
    if connection.vendor == "postgresql":
        picked = f"CROSS JOIN LATERAL jsonb_array_elements_text(s.{column}) AS picked(value)"
        choice_id = "CAST(picked.value AS bigint)"
    elif connection.vendor == "sqlite":
        picked = f"CROSS JOIN json_each(s.{column}) AS picked"
        choice_id = "CAST(picked.value AS integer)"
    else:
        raise NotSupportedError(f"item analysis counts choices on SQLite and PostgreSQL, not {connection.vendor}")
    sql = (
        f"SELECT {choice_id}, COUNT(DISTINCT s.id) FROM {table} AS s {picked} "  # noqa: S608
        f"WHERE s.id IN ({ids_sql}) GROUP BY {choice_id}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


@dataclass
class _Sums:
    """A question's sums as exact numbers: the y sums are fractions, since y = r / (length - 1)."""

    answered: int = 0
    correct: int = 0
    middle_seconds: int = 0  # the one (n odd) or two (n even) middle times
    n: int = 0  # responses with a rest score (attempts of two or more questions)
    sx: int = 0
    sy: Fraction = Fraction(0)
    syy: Fraction = Fraction(0)
    sxy: Fraction = Fraction(0)
    top: Fraction = Fraction(0)
    by_version: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, row):
        self.answered += row["n"]
        self.correct += row["sx"]
        self.middle_seconds += row["middle_seconds"] or 0
        self.by_version[row["version"]] += row["n"]
        others = row["length"] - 1
        if others > 0:
            self.n += row["n"]
            self.sx += row["sx"]
            self.sy += Fraction(row["sr"], others)
            self.syy += Fraction(row["srr"], others * others)
            self.sxy += Fraction(row["sxr"], others)
            self.top += Fraction(row["top"] or 0, others)

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
    responses = AttemptSlot.objects.filter(pk__in=first_exposures(slots).values("pk"))
    sums: dict[int, _Sums] = defaultdict(_Sums)
    for row in _aggregates(responses):
        sums[row["question"]].add(row)
    counts = _choice_counts(responses)
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
        median_seconds=sums.middle_seconds / (2 - sums.answered % 2) if sums.answered else None,
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
