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

How it is computed: the first exposures are a plain filter on the stored flag, read from one covering index
(see AttemptSlot.Meta), and four queries over them each return a few rows per question or per choice, never per
response: the integer sums per question, version and attempt length (Σx, Σr, Σr², Σx·r with r = correct_count - x,
so y = r / (length - 1)); the sum of the k best rest scores (in integer units of 1e-9, see REST_SCALE), from a
running sum over the counts per question and rest score; the one or two middle times, from a running count over
the counts per question and time; and the count per selected choice. The two running sums run over those counts
(a few dozen rows per question) rather than over the responses, which is what keeps SQLite fast. The database
sums integers only and Python adds a question's groups as exact fractions, so every figure is the same to the last
bit on SQLite and PostgreSQL, whatever order either database sums in. Python loops only over these rows, never
over responses.
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
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast

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

    Six queries however many questions or responses: the questions, their choices, and four over the first
    exposures: the sums per group (_group_sums), the k best rest scores (_top_rest), the middle times
    (_middle_times) and the count per selected choice (_choice_counts). Every per-response computation happens
    inside those four, which return rows per question or per choice, never per response; so the number of queries
    never grows with the data.
    """
    questions = list(Question.objects.filter(bank_id=bank_id).order_by("key").values_list("id", "key"))
    return _analyse(
        questions,
        choices=Choice.objects.filter(version__question__bank_id=bank_id),
        slots=AttemptSlot.objects.filter(question_version__question__bank_id=bank_id),
    )


def question_item_analysis(question_id) -> ItemStats:
    """Item statistics for one question, in the same six queries as a whole bank; Question.DoesNotExist if none."""
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
_HAS_REST = Q(attempt__question_count__gt=1)
# The k best rest scores are summed in integer units of 1e-9 (each y rounded down): exact and the same on both
# databases, and short of the true sum by less than k * 1e-9. Rounding down keeps the order of the y (ties
# aside, which add the same), so the k best in these units are the k best y.
REST_SCALE = 10**9
_REST_UNITS = Cast(_REST, BigIntegerField()) * REST_SCALE / (_LENGTH - 1)


def first_exposures(slots: QuerySet[AttemptSlot]) -> QuerySet[AttemptSlot]:
    """The slots among `slots` that are a learner's first finished exposure to their question (one per pair)."""
    return slots.filter(is_first_exposure=True).order_by()


def _group_sums(first: QuerySet[AttemptSlot]):
    """The integer sums of each (question, version, attempt length) group of first exposures (one query)."""
    return (
        first.values(question=_QUESTION, version=F("question_version_id"), length=_LENGTH)
        .annotate(
            n=Count("pk"),
            sx=Sum(_SCORE),
            sr=Sum(_REST),
            srr=Sum(_REST * _REST),
            sxr=Sum(_SCORE * _REST),
        )
        .order_by()
    )


def _top_rest(first: QuerySet[AttemptSlot]) -> dict[int, int]:
    """Per question, the sum of the k best rest scores in units of 1/REST_SCALE, k its correct responses (one query).

    Only responses with a rest score take part. The responses are counted per question and rest score, and a
    running sum over those counts, best first, finds the row where the k-th best falls: the sum up to there, less
    the part of that row past the k-th, is the answer. A question without a correct response has no row.
    """
    counts = (
        first.filter(_HAS_REST)
        .values(question=_QUESTION, units=_REST_UNITS)
        .annotate(responses=Count("pk"), correct=Sum(_SCORE))
        .order_by()
    )
    rows = _over(
        counts,
        columns="question, units, running, running_units, k",
        windows="SUM(correct) OVER (PARTITION BY question) AS k, "
        "SUM(responses) OVER best AS running, SUM(responses * units) OVER best AS running_units",
        named="best AS (PARTITION BY question ORDER BY units DESC ROWS UNBOUNDED PRECEDING)",
        where="running - responses < k AND k <= running",
    )
    # Integers on both databases (PostgreSQL sums bigints as numeric): the sum of the rows up to the k-th best,
    # less the (running - k) responses of the last row that come after it.
    return {
        row["question"]: int(row["running_units"]) - (int(row["running"]) - int(row["k"])) * int(row["units"])
        for row in rows
    }


def _middle_times(first: QuerySet[AttemptSlot]):
    """Per question, the rows (before, upto, total, seconds) that hold its middle times by rank (one query).

    The responses are counted per question and time; a running count over those counts, shortest first, gives
    each row the ranks before+1 .. upto. The rows holding rank ⌊(total+1)/2⌋ or ⌊(total+2)/2⌋ are kept: one row when
    both middle ranks fall in it, else two. Integer comparisons only: 2·before ≤ total ≤ 2·upto.
    """
    counts = first.values(question=_QUESTION, seconds=F("seconds_spent")).annotate(responses=Count("pk")).order_by()
    return _over(
        counts,
        columns="question, running - responses AS before, running AS upto, total, seconds",
        windows="SUM(responses) OVER (PARTITION BY question) AS total, "
        "SUM(responses) OVER (PARTITION BY question ORDER BY seconds ROWS UNBOUNDED PRECEDING) AS running",
        where="2 * (running - responses) <= total AND total <= 2 * running",
    )


def _over(counts: QuerySet, *, columns: str, windows: str, where: str, named: str = "") -> list[dict]:
    """Run window functions over the rows of an aggregate query and keep the rows `where` picks (one query).

    The ORM cannot run a window over an aggregate, so the aggregate is compiled by the ORM and wrapped in SQL
    that names only its output columns; every value stays a query parameter. Standard SQL, the same on SQLite
    and PostgreSQL.
    """
    connection = connections[counts.db]
    inner, params = counts.query.get_compiler(connection=connection).as_sql()
    window_clause = f" WINDOW {named}" if named else ""
    sql = (
        f"SELECT {columns} FROM (SELECT *, {windows} FROM ({inner}) AS counts{window_clause}) AS ranked "  # noqa: S608
        f"WHERE {where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


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

    def add_group(self, row):
        """Take the sums of one (version, attempt length) group of the question's first exposures."""
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

    def add_middle(self, *, before, upto, total, seconds):
        """Take the time of the ranks before+1 .. upto where they include a middle rank."""
        for rank in ((total + 1) // 2, (total + 2) // 2):
            if before < rank <= upto:
                self.middle[rank] = seconds

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
    for row in _group_sums(first):
        sums[row["question"]].add_group(row)
    for question_id, units in _top_rest(first).items():
        sums[question_id].top = Fraction(units, REST_SCALE)
    for row in _middle_times(first):
        sums[row["question"]].add_middle(
            before=int(row["before"]), upto=int(row["upto"]), total=int(row["total"]), seconds=row["seconds"]
        )
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
