"""The readiness maths on known data, and "not enough data" below the thresholds."""

import math
from datetime import timedelta

import pytest
from django.utils import timezone

from quizapp.progress import readiness
from quizapp.progress.readiness import DomainEvidence, beta_binomial, estimate
from tests.factories import BlueprintFactory

from .helpers import take

WEIGHTS = {1: 22, 2: 17, 3: 15, 4: 15, 5: 14, 6: 17}


def evidence(correct_share, per_domain=20):
    return [
        DomainEvidence(number=n, name=f"D{n}", weight=w, correct=round(correct_share * per_domain), total=per_domain)
        for n, w in WEIGHTS.items()
    ]


def test_beta_binomial_is_a_distribution_with_the_right_mean():
    pmf = beta_binomial(10, 3, 2)
    assert math.isclose(sum(pmf), 1.0)
    assert math.isclose(sum(k * p for k, p in enumerate(pmf)), 10 * 3 / 5)


def test_uniform_posterior_gives_a_uniform_count():
    # Beta(1, 1) mixed over binomials is uniform on 0..n.
    assert all(math.isclose(p, 1 / 11) for p in beta_binomial(10, 1, 1))


def test_scored_questions_split_by_the_exam_weights():
    result = estimate(evidence(0.8))
    assert [d.questions for d in result.domains] == [14, 11, 10, 10, 9, 11]
    assert sum(d.questions for d in result.domains) == 65


def test_a_strong_learner_is_likely_to_pass_a_weak_one_is_not():
    strong, weak = estimate(evidence(0.9)), estimate(evidence(0.55))
    assert strong.enough and weak.enough
    assert strong.pass_chance > 90
    assert weak.pass_chance < 5
    # Posterior mean with a Beta(1, 1) prior: (18 + 1) / (20 + 2).
    assert strong.expected_percent == pytest.approx(100 * 19 / 22, abs=0.1)
    assert strong.low_percent <= strong.expected_percent <= strong.high_percent


def test_the_chance_falls_as_the_assumed_cut_rises():
    chances = [chance for _, chance in estimate(evidence(0.75)).chances]
    assert [cut for cut, _ in estimate(evidence(0.75)).chances] == [70, 72, 74, 75, 76, 78, 80]
    assert chances == sorted(chances, reverse=True)
    assert 30 < dict(estimate(evidence(0.75)).chances)[75] < 70


def test_not_enough_data_says_what_would_be_enough():
    few = estimate(evidence(0.8, per_domain=9))  # 54 answers
    assert not few.enough and few.pass_chance is None
    assert few.needs[0].startswith("6 more first-time answers")
    thin = evidence(0.8)
    thin[2].total, thin[2].correct = 3, 3
    result = estimate(thin)
    assert not result.enough
    assert result.needs == ["2 more in domain 3 (D3), for at least 5 in each domain"]


@pytest.mark.django_db
def test_only_first_exposures_in_timed_attempts_count(bank, learner, practice_blueprint):
    mock = BlueprintFactory(bank=bank, slug="all", title="All", question_count=30, duration_minutes=60)
    now = timezone.now()
    domain = bank.domains.get(number=1)
    # A drill first: domain 1's questions are then no longer first exposures for the mock.
    take(learner, practice_blueprint, now=now - timedelta(days=5), right=lambda s: True, domain=domain)
    take(learner, mock, now=now - timedelta(days=2), right=lambda s: False)
    take(learner, mock, now=now - timedelta(days=1), right=lambda s: True, seed=9)  # the same 30: seen before
    exposures = readiness.first_exposures(learner, bank, now)
    drilled = set(practice_blueprint.attempts.get().slots.values_list("question_version__question_id", flat=True))
    assert len(exposures) == 30 - len(drilled)
    assert not any(correct for _, correct in exposures)
    result = readiness.readiness(learner, bank, now)
    assert not result.enough and result.answers == 30 - len(drilled)
