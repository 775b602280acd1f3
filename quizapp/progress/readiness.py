"""An honest readiness estimate: the chance of reaching the pass mark on the real exam's 65 scored questions.

Evidence is each question's first answer by the learner, and only when that first answer was in a timed attempt
(a question seen before, or first met in a drill that showed its explanation, says less about exam day). Each
domain's accuracy gets a Beta posterior (uniform prior); the exam's 65 scored questions are split across domains
by the exam guide's weights; the number right per domain is then Beta-binomial, and the total is their sum. The
distribution is computed exactly (a convolution of six small distributions) rather than by Monte Carlo, so the
figures are the same on every page load. The raw cut that corresponds to the scaled 750 is not published: the
page shows the chance for cuts from 70 % to 80 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from quizapp.bank.models import Bank, Domain
from quizapp.exams.models import AttemptSlot, ExamBlueprint
from quizapp.exams.services import allocate_by_weight

from .queries import visible_attempts

SCORED_QUESTIONS = 65
MIN_ANSWERS = 60
MIN_PER_DOMAIN = 5
CUTS = (70, 72, 74, 75, 76, 78, 80)
ASSUMED_CUT = 75
PRIOR = (1, 1)  # Beta(1, 1): no opinion before the first answer


@dataclass
class DomainEvidence:
    number: int
    name: str
    weight: int
    correct: int = 0
    total: int = 0
    questions: int = 0  # of the 65 scored

    @property
    def alpha(self):
        return PRIOR[0] + self.correct

    @property
    def beta(self):
        return PRIOR[1] + self.total - self.correct

    @property
    def mean_percent(self):
        return round(100 * self.alpha / (self.alpha + self.beta))

    @property
    def shortfall(self):
        return max(0, MIN_PER_DOMAIN - self.total)


@dataclass
class Readiness:
    domains: list[DomainEvidence]
    answers: int
    enough: bool
    needs: list[str] = field(default_factory=list)
    expected_percent: float | None = None
    low_percent: float | None = None  # 10th percentile
    high_percent: float | None = None  # 90th percentile
    chances: list[tuple[int, int]] = field(default_factory=list)  # (cut percent, chance percent)

    @property
    def pass_chance(self) -> int | None:
        return dict(self.chances).get(ASSUMED_CUT)

    @property
    def assumed_cut(self):
        return ASSUMED_CUT


def first_exposures(user, bank: Bank, now, *, attempts: dict | None = None) -> list[tuple[int, bool]]:
    """(domain number, correct) of each question's first exposure, when that was in a timed attempt.

    The engine marks each learner's first finished exposure to a question when the attempt finishes
    (AttemptSlot.is_first_exposure, the slots item analysis counts too), so this reads at most one row per
    question of the bank through a partial index, however many attempts the learner has. A first exposure left
    unanswered counts as wrong, as the exam scores it.
    """
    if attempts is None:
        attempts = visible_attempts(user, bank, now)
    timed = [pk for pk, (_, mode) in attempts.items() if mode == ExamBlueprint.Mode.TIMED]
    rows = AttemptSlot.objects.filter(attempt_id__in=timed, is_first_exposure=True).values_list(
        "question_version__domain__number", "is_correct"
    )
    return [(number, bool(correct)) for number, correct in rows]


def beta_binomial(n: int, a: float, b: float) -> list[float]:
    """P(k right of n) when the accuracy is Beta(a, b)."""
    log_beta_ab = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    pmf = []
    for k in range(n + 1):
        log_choose = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        log_beta = math.lgamma(k + a) + math.lgamma(n - k + b) - math.lgamma(n + a + b)
        pmf.append(math.exp(log_choose + log_beta - log_beta_ab))
    return pmf


def convolve(p: list[float], q: list[float]) -> list[float]:
    out = [0.0] * (len(p) + len(q) - 1)
    for i, pi in enumerate(p):
        if pi:
            for j, qj in enumerate(q):
                out[i + j] += pi * qj
    return out


def quantile(pmf: list[float], q: float) -> int:
    running = 0.0
    for k, p in enumerate(pmf):
        running += p
        if running >= q - 1e-12:
            return k
    return len(pmf) - 1


def estimate(domains: list[DomainEvidence], *, scored: int = SCORED_QUESTIONS) -> Readiness:
    """The estimate from per-domain evidence (or what is missing, if there is too little)."""
    weights = {d.number: d.weight for d in domains}
    allocation = allocate_by_weight(scored, weights, dict.fromkeys(weights, scored))
    for d in domains:
        d.questions = allocation.get(d.number, 0)
    answers = sum(d.total for d in domains)
    counted = [d for d in domains if d.weight > 0]
    needs = []
    if answers < MIN_ANSWERS:
        needs.append(f"{MIN_ANSWERS - answers} more first-time answers in timed exams ({MIN_ANSWERS} in all)")
    needs += [
        f"{d.shortfall} more in domain {d.number} ({d.name}), for at least {MIN_PER_DOMAIN} in each domain"
        for d in counted
        if d.shortfall
    ]
    result = Readiness(domains=domains, answers=answers, enough=not needs, needs=needs)
    if needs:
        return result
    pmf = [1.0]
    for d in counted:
        pmf = convolve(pmf, beta_binomial(d.questions, d.alpha, d.beta))
    total = len(pmf) - 1
    expected = sum(k * p for k, p in enumerate(pmf))
    result.expected_percent = round(100 * expected / total, 1)
    result.low_percent = round(100 * quantile(pmf, 0.10) / total, 1)
    result.high_percent = round(100 * quantile(pmf, 0.90) / total, 1)
    for cut in CUTS:
        need = math.ceil(cut * total / 100 - 1e-9)
        chance = sum(pmf[need:])
        result.chances.append((cut, round(100 * chance)))
    return result


def readiness(user, bank: Bank, now, *, domains=None, attempts=None) -> Readiness:
    """The learner's readiness for the bank's exam (one query, and one for the domains unless given)."""
    if domains is None:
        domains = Domain.objects.filter(bank=bank).order_by("number")
    domains = {d.number: DomainEvidence(number=d.number, name=d.name, weight=d.weight) for d in domains}
    for number, correct in first_exposures(user, bank, now, attempts=attempts):
        if number in domains:
            domains[number].total += 1
            domains[number].correct += correct
    return estimate(list(domains.values()))
