"""Item analysis: facility, discrimination, efficiency, options, time and flags over first exposures only."""

import statistics
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from quizapp.accounts.models import User
from quizapp.bank.models import Question
from quizapp.exams import item_analysis, services
from quizapp.exams.item_analysis import bank_item_analysis, question_item_analysis
from quizapp.exams.models import Attempt, AttemptSlot
from tests.factories import (
    BankFactory,
    BlueprintFactory,
    DomainFactory,
    UserFactory,
    bank_with_questions,
    make_version,
)

pytestmark = pytest.mark.django_db


def moment(hours):
    return datetime(2026, 3, 2, 9, 0, tzinfo=UTC) + timedelta(hours=hours)


def right(version):
    return sorted(c.id for c in version.choices.all() if c.is_correct)


def wrong(version, which=0):
    return [[c.id for c in version.choices.all() if not c.is_correct][which]]


class Sitting:
    """A small bank, a blueprint and helpers to make learners sit it with chosen answers."""

    def __init__(self, questions=1, options=4, correct=1):
        self.bank = BankFactory()
        self.domain = DomainFactory(bank=self.bank)
        self.blueprint = BlueprintFactory(bank=self.bank)
        self.versions = [make_version(domain=self.domain, options=options, correct=correct) for _ in range(questions)]

    @staticmethod
    def learner():
        return UserFactory()

    def sit(self, user, answers, *, at=0, finish=True, seconds=None, blueprint=None):
        """`user` answers each version of `answers` (version: choice ids) in one attempt started `at` hours in.

        The attempt is finished an hour after its start unless `finish` is false; a learner can have only one
        open attempt of a blueprint, so open attempts side by side need a `blueprint` each.
        """
        started = moment(at)
        attempt = Attempt.objects.create(
            user=user,
            blueprint=blueprint or self.blueprint,
            mode="timed",
            pass_mark_percent=75,
            started_at=started,
            question_count=len(answers),
        )
        AttemptSlot.objects.bulk_create(
            AttemptSlot(
                attempt=attempt,
                position=position,
                question_version=version,
                choice_order=[c.id for c in version.choices.all()],
                selected_choice_ids=list(ids),
                seconds_spent=(seconds or {}).get(version, 60),
            )
            for position, (version, ids) in enumerate(answers.items(), start=1)
        )
        if finish:
            services.attempt_finish(attempt_id=attempt.pk, now=started + timedelta(hours=1))
        return attempt

    def stats(self, version=None):
        version = version or self.versions[0]
        return question_item_analysis(version.question_id)


def responses_of(version):
    """The (x, y) pairs of every finished slot of `version`, computed here in Python as the reference."""
    pairs = []
    for slot in AttemptSlot.objects.filter(question_version=version, attempt__state="finished").select_related(
        "attempt"
    ):
        x = 1 if slot.is_correct else 0
        pairs.append((x, (slot.attempt.correct_count - x) / (slot.attempt.question_count - 1)))
    return pairs


def reference_efficiency(pairs):
    """Moodle's covariance / covariancemax, covariancemax pairing the sorted x with the sorted y."""
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in pairs)
    covariance_max = sum((x - mean_x) * (y - mean_y) for x, y in zip(sorted(xs), sorted(ys), strict=True))
    return covariance / covariance_max


class TestFacility:
    def test_facility_is_the_share_of_correct_first_answers(self):
        s = Sitting()
        version = s.versions[0]
        for i in range(10):
            s.sit(s.learner(), {version: right(version) if i < 7 else wrong(version)})
        stats = s.stats()
        assert stats.answered == 10
        assert stats.facility == pytest.approx(0.7)
        assert stats.key == version.question.key

    def test_every_question_of_the_bank_is_listed_even_unanswered(self):
        s = Sitting(questions=3)
        answered, *unanswered = s.versions
        s.sit(s.learner(), {answered: right(answered)})
        rows = {row.question_id: row for row in bank_item_analysis(s.bank.pk)}
        assert set(rows) == {v.question_id for v in s.versions}
        assert rows[answered.question_id].answered == 1
        for version in unanswered:
            row = rows[version.question_id]
            assert (row.answered, row.facility, row.discrimination, row.median_seconds) == (0, None, None, None)
            assert row.flags == [item_analysis.FLAG_NOT_ENOUGH_DATA]
            assert [o.count for o in row.option_counts] == [0, 0, 0, 0]

    def test_another_banks_attempts_do_not_count(self):
        s, other = Sitting(), Sitting()
        s.sit(s.learner(), {s.versions[0]: right(s.versions[0])})
        other.sit(other.learner(), {other.versions[0]: wrong(other.versions[0])})
        [row] = bank_item_analysis(s.bank.pk)
        assert (row.question_id, row.answered, row.facility) == (s.versions[0].question_id, 1, 1.0)

    def test_the_bank_and_the_question_reads_agree(self):
        s = Sitting(questions=2)
        for i in range(4):
            s.sit(s.learner(), {v: right(v) if i % 2 else wrong(v) for v in s.versions})
        [row] = [r for r in bank_item_analysis(s.bank.pk) if r.question_id == s.versions[1].question_id]
        assert row == s.stats(s.versions[1])

    def test_an_unknown_question_raises_does_not_exist(self):
        with pytest.raises(Question.DoesNotExist):
            question_item_analysis(0)


def ability_class(s, item, *, strong_right, learners=40, fillers=4):
    """`learners` learners of rising ability: learner i gets i * fillers // learners filler questions right.

    The item is answered right by the strong half when `strong_right`, else by the weak half.
    """
    versions = s.versions
    for i in range(learners):
        strong = i >= learners // 2
        answers = {v: right(v) if n < i * fillers // learners else wrong(v) for n, v in enumerate(versions[1:])}
        answers[item] = right(item) if strong == strong_right else wrong(item)
        s.sit(s.learner(), answers)


class TestDiscrimination:
    def test_an_item_the_strong_get_right_discriminates_positively(self):
        s = Sitting(questions=5)
        item = s.versions[0]
        ability_class(s, item, strong_right=True)
        stats = s.stats(item)
        pairs = responses_of(item)
        assert stats.discrimination == pytest.approx(statistics.correlation(*zip(*pairs, strict=True)))
        assert stats.discrimination > 0.5
        assert stats.discriminative_efficiency == pytest.approx(reference_efficiency(pairs))
        assert 0 < stats.discriminative_efficiency <= 1
        assert item_analysis.FLAG_WRONG_KEY not in stats.flags
        assert item_analysis.FLAG_WEAK_DISCRIMINATION not in stats.flags

    def test_an_item_the_weak_get_right_is_negative_and_a_probable_wrong_key(self):
        s = Sitting(questions=5)
        item = s.versions[0]
        ability_class(s, item, strong_right=False)
        stats = s.stats(item)
        pairs = responses_of(item)
        assert stats.discrimination == pytest.approx(statistics.correlation(*zip(*pairs, strict=True)))
        assert stats.discrimination < 0
        assert stats.discriminative_efficiency == pytest.approx(reference_efficiency(pairs))
        assert item_analysis.FLAG_WRONG_KEY in stats.flags

    def test_an_item_right_for_exactly_the_best_rest_scores_is_fully_efficient(self):
        s = Sitting(questions=5)
        item = s.versions[0]
        ability_class(s, item, strong_right=True)
        assert s.stats(item).discriminative_efficiency == pytest.approx(1.0)

    def test_attempts_of_different_lengths_mix_their_rest_scores(self):
        s = Sitting(questions=5)
        item, *fillers = s.versions
        for i in range(12):
            short = {item: right(item) if i % 3 else wrong(item), fillers[0]: right(fillers[0]) if i % 2 else []}
            s.sit(s.learner(), short if i < 6 else short | {v: right(v) if i > 8 else [] for v in fillers[1:]})
        stats = s.stats(item)
        pairs = responses_of(item)
        assert stats.discrimination == pytest.approx(statistics.correlation(*zip(*pairs, strict=True)))
        assert stats.discriminative_efficiency == pytest.approx(reference_efficiency(pairs))

    def test_the_k_best_rest_scores_may_end_inside_a_tie(self):
        """Three correct responses, four learners tied on the best rest score: the third best is inside the tie."""
        s = Sitting(questions=2)
        item, filler = s.versions
        for i in range(7):
            answers = {item: right(item) if i in (0, 1, 4) else wrong(item), filler: right(filler) if i < 4 else []}
            s.sit(s.learner(), answers)
        stats = s.stats(item)
        assert stats.discriminative_efficiency == pytest.approx(reference_efficiency(responses_of(item)))
        assert stats.discriminative_efficiency == pytest.approx(2 / 9)  # (7·2 - 3·4) / (7·3 - 3·4)

    def test_without_variance_there_is_no_discrimination(self):
        s = Sitting(questions=2)
        item, filler = s.versions
        for i in range(5):
            s.sit(s.learner(), {item: right(item), filler: right(filler) if i % 2 else []})
        stats = s.stats(item)
        assert stats.facility == 1.0
        assert stats.discrimination is None and stats.discriminative_efficiency is None


class TestFirstExposureOnly:
    def test_a_second_attempt_by_the_same_learner_changes_nothing(self):
        s = Sitting(questions=5)
        item = s.versions[0]
        ability_class(s, item, strong_right=True)
        before = s.stats(item)
        for user in User.objects.filter(attempts__isnull=False).distinct():
            # Everyone now answers the item wrongly, slowly, with another option, in a later attempt.
            s.sit(
                user,
                {item: wrong(item, 2), s.versions[1]: right(s.versions[1])},
                at=5,
                seconds={item: 999},
            )
        assert s.stats(item) == before

    def test_the_first_finished_attempt_counts_even_when_it_started_later(self):
        s = Sitting()
        version = s.versions[0]
        learner = s.learner()
        long_one = s.sit(learner, {version: wrong(version)}, at=0, finish=False)
        quick_one = s.sit(
            learner,
            {version: right(version)},
            at=1,
            finish=False,
            seconds={version: 42},
            blueprint=BlueprintFactory(bank=s.bank),
        )
        services.attempt_finish(attempt_id=quick_one.pk, now=moment(2))
        services.attempt_finish(attempt_id=long_one.pk, now=moment(3))
        stats = s.stats()
        assert (stats.answered, stats.facility, stats.median_seconds) == (1, 1.0, 42)

    def test_open_attempts_are_ignored(self):
        s = Sitting(questions=5)
        item = s.versions[0]
        ability_class(s, item, strong_right=True)
        before = s.stats(item)
        for _ in range(5):
            s.sit(s.learner(), {item: wrong(item, 1), s.versions[1]: right(s.versions[1])}, finish=False)
        assert s.stats(item) == before

    def test_a_new_version_of_the_question_is_the_same_question(self):
        s = Sitting()
        first = s.versions[0]
        second = make_version(domain=s.domain, question=first.question, number=2)
        learner = s.learner()
        s.sit(learner, {first: right(first)}, at=0)
        s.sit(learner, {second: wrong(second)}, at=1)
        s.sit(s.learner(), {second: wrong(second)}, at=2)
        stats = s.stats()
        assert (stats.answered, stats.facility) == (2, 0.5)
        by_id = {o.choice_id: o for o in stats.option_counts}
        assert by_id[right(first)[0]].count == 1 and by_id[right(first)[0]].share == 1.0
        assert by_id[wrong(second)[0]].count == 1 and by_id[wrong(second)[0]].share == 1.0
        assert by_id[wrong(first)[0]].count == 0 and by_id[wrong(first)[0]].share == 0.0


def flags(attempt):
    """The attempt's first-exposure flags by position."""
    return list(attempt.slots.order_by("position").values_list("is_first_exposure", flat=True))


class TestFirstExposureFlag:
    """attempt_finish marks the slots that are the learner's first finished exposure to their question."""

    def test_every_slot_of_a_learners_first_attempt_is_a_first_exposure(self):
        s = Sitting(questions=3)
        attempt = s.sit(s.learner(), {v: right(v) for v in s.versions})
        assert flags(attempt) == [True, True, True]

    def test_a_question_met_before_is_not_and_a_new_one_is(self):
        s = Sitting(questions=3)
        seen, again, new = s.versions
        learner = s.learner()
        s.sit(learner, {seen: right(seen), again: wrong(again)})
        later = s.sit(learner, {again: right(again), new: right(new), seen: wrong(seen)}, at=2)
        assert flags(later) == [False, True, False]

    def test_another_version_of_a_question_met_before_is_not(self):
        s = Sitting()
        first = s.versions[0]
        second = make_version(domain=s.domain, question=first.question, number=2)
        learner = s.learner()
        s.sit(learner, {first: right(first)})
        assert flags(s.sit(learner, {second: right(second)}, at=2)) == [False]

    def test_other_learners_and_open_attempts_do_not_count_as_met(self):
        s = Sitting()
        version = s.versions[0]
        learner = s.learner()
        s.sit(s.learner(), {version: right(version)})
        open_attempt = s.sit(learner, {version: wrong(version)}, finish=False)
        assert flags(open_attempt) == [False]  # set on finish only
        later = s.sit(learner, {version: right(version)}, at=2, blueprint=BlueprintFactory(bank=s.bank))
        assert flags(later) == [True]
        services.attempt_finish(attempt_id=open_attempt.pk, now=moment(5))
        assert flags(open_attempt) == [False]

    def test_finishing_twice_changes_no_flag(self):
        s = Sitting(questions=2)
        learner = s.learner()
        attempt = s.sit(learner, {v: right(v) for v in s.versions})
        services.attempt_finish(attempt_id=attempt.pk, now=moment(9))
        assert flags(attempt) == [True, True]

    def test_an_attempt_closed_late_as_of_its_deadline_does_not_take_over(self):
        """'First' is the order in which attempts are finished, not the finish time an overdue attempt gets."""
        s = Sitting()
        version = s.versions[0]
        learner = s.learner()
        overdue = s.sit(learner, {version: wrong(version)}, finish=False)
        Attempt.objects.filter(pk=overdue.pk).update(deadline=moment(1))
        submitted = s.sit(learner, {version: right(version)}, at=2, blueprint=BlueprintFactory(bank=s.bank))
        services.close_overdue_attempts(now=moment(6))
        overdue.refresh_from_db()
        submitted.refresh_from_db()
        assert overdue.finished_at == moment(1) < submitted.finished_at
        assert (flags(submitted), flags(overdue)) == ([True], [False])


@pytest.mark.django_db(transaction=True)
def test_two_attempts_of_one_learner_finishing_at_once_give_one_first_exposure_per_question():
    """The learner's row lock makes the two finishes take turns, so no question is first in both attempts."""
    bank = bank_with_questions(per_domain=1, slug="race")  # six questions: every attempt draws them all
    learner = UserFactory()
    now = timezone.now()
    attempts = [
        services.attempt_start(user=learner, blueprint=BlueprintFactory(bank=bank, question_count=6), now=now)
        for _ in range(2)
    ]
    barrier = threading.Barrier(2)
    errors = []

    def finish(attempt):
        try:
            barrier.wait()
            services.attempt_finish(attempt_id=attempt.pk, now=timezone.now())
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=finish, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    first = AttemptSlot.objects.filter(attempt__user=learner, is_first_exposure=True)
    assert first.count() == 6
    assert first.values("question_version__question").distinct().count() == 6
    assert {tuple(flags(attempt)) for attempt in attempts} == {(True,) * 6, (False,) * 6}


@pytest.mark.django_db(transaction=True)
def test_the_migration_flags_the_first_finished_exposures_of_existing_attempts():
    """Migrating 0005 onto attempts finished before it sets the flags as attempt_finish would have."""
    s = Sitting(questions=3)
    one, two, three = s.versions
    learner, other = s.learner(), s.learner()
    # The long attempt starts first but finishes last: the quick one, finished first, holds the first exposures.
    long_one = s.sit(learner, {one: wrong(one), two: wrong(two)}, finish=False)
    quick_one = s.sit(
        learner, {two: right(two), three: right(three)}, at=1, finish=False, blueprint=BlueprintFactory(bank=s.bank)
    )
    services.attempt_finish(attempt_id=quick_one.pk, now=moment(2))
    services.attempt_finish(attempt_id=long_one.pk, now=moment(3))
    s.sit(other, {one: right(one)}, at=4)
    s.sit(other, {one: wrong(one), two: wrong(two)}, at=6)
    s.sit(other, {three: wrong(three)}, at=8, finish=False)
    expected = dict(AttemptSlot.objects.values_list("pk", "is_first_exposure"))
    assert sum(expected.values()) == 5  # the learner: 2 + 1, the other: 1 + 1, none in the open attempt

    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("exams", "0005_attempt_context_and_review_time")])
        executor.loader.build_graph()
        executor.migrate([("exams", "0006_slot_first_exposure")])
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert dict(AttemptSlot.objects.values_list("pk", "is_first_exposure")) == expected
    assert bank_item_analysis(s.bank.pk)[0].answered == 2


class TestOptions:
    def test_counts_and_shares_per_choice(self):
        s = Sitting()
        version = s.versions[0]
        picks = [right(version)] * 5 + [wrong(version, 0)] * 3 + [wrong(version, 1)] * 2
        for ids in picks:
            s.sit(s.learner(), {version: ids})
        s.sit(s.learner(), {version: []})  # left blank: a response, no choice
        options = s.stats().option_counts
        assert [(o.choice_id, o.count) for o in options] == [
            (c.id, n) for c, n in zip(version.choices.all(), [5, 3, 2, 0], strict=True)
        ]
        assert [o.share for o in options] == pytest.approx([5 / 11, 3 / 11, 2 / 11, 0])
        assert [o.is_correct for o in options] == [True, False, False, False]
        assert options[0].text == version.choices.first().text

    def test_multiple_response_counts_every_selected_choice(self):
        s = Sitting(options=5, correct=2)
        version = s.versions[0]
        for ids in [right(version), right(version), [right(version)[0], wrong(version)[0]]]:
            s.sit(s.learner(), {version: ids})
        options = s.stats().option_counts
        assert [o.count for o in options] == [3, 2, 1, 0, 0]
        assert sum(o.share for o in options) == pytest.approx(2)
        assert s.stats().facility == pytest.approx(2 / 3)


class TestTime:
    @pytest.mark.parametrize(("seconds", "median"), [([90, 10, 20], 20), ([100, 10, 30, 20], 25), ([7], 7)])
    def test_median_seconds_of_first_exposures(self, seconds, median):
        s = Sitting()
        version = s.versions[0]
        for spent in seconds:
            s.sit(s.learner(), {version: right(version)}, seconds={version: spent})
        assert s.stats().median_seconds == median


class TestFlags:
    def test_under_thirty_responses_only_not_enough_data(self):
        s = Sitting()
        version = s.versions[0]
        for _ in range(item_analysis.MIN_RESPONSES - 1):
            s.sit(s.learner(), {version: right(version)})
        assert s.stats().facility == 1.0
        assert s.stats().flags == [item_analysis.FLAG_NOT_ENOUGH_DATA]
        s.sit(s.learner(), {version: right(version)})
        assert item_analysis.FLAG_NOT_ENOUGH_DATA not in s.stats().flags
        assert item_analysis.FLAG_VERY_EASY in s.stats().flags

    def test_very_hard(self):
        s = Sitting()
        version = s.versions[0]
        for i in range(30):
            s.sit(s.learner(), {version: right(version) if i < 5 else wrong(version, i % 3)})
        assert s.stats().flags == [item_analysis.FLAG_VERY_HARD]

    def test_weak_discrimination(self):
        s = Sitting(questions=5)
        item = s.versions[0]
        for i in range(40):
            # Abilities as in ability_class; the item is right for every other learner, whatever their ability.
            answers = {v: right(v) if n < i * 4 // 40 else wrong(v) for n, v in enumerate(s.versions[1:])}
            s.sit(s.learner(), answers | {item: right(item) if i % 2 else wrong(item)})
        stats = s.stats(item)
        assert 0 <= stats.discrimination < item_analysis.WEAK_DISCRIMINATION_BELOW
        assert item_analysis.FLAG_WEAK_DISCRIMINATION in stats.flags
        assert item_analysis.FLAG_WRONG_KEY not in stats.flags

    @pytest.mark.parametrize(("rare_picks", "flagged"), [(1, True), (2, False)])
    def test_a_distractor_chosen_under_five_percent_is_flagged(self, rare_picks, flagged):
        s = Sitting()
        version = s.versions[0]
        # 40 responses: 20 right, 10 and 10 - rare_picks on two distractors, rare_picks on the third.
        picks = [right(version)] * 20 + [wrong(version, 0)] * 10 + [wrong(version, 1)] * (10 - rare_picks)
        for ids in picks + [wrong(version, 2)] * rare_picks:
            s.sit(s.learner(), {version: ids})
        stats = s.stats()
        assert stats.option_counts[3].share == pytest.approx(rare_picks / 40)
        assert (item_analysis.FLAG_RARE_DISTRACTOR in stats.flags) is flagged


class TestQueries:
    @pytest.mark.parametrize("questions", [5, 50])
    def test_the_number_of_queries_does_not_grow_with_questions_or_responses(
        self, questions, django_assert_max_num_queries
    ):
        """Intended to prevent an n+1 issue: six queries for a bank of 5 questions or of 50, and their answers."""
        s = Sitting(questions=questions)
        for i in range(3):
            s.sit(s.learner(), {v: right(v) if (i + n) % 2 else wrong(v) for n, v in enumerate(s.versions)})
        with django_assert_max_num_queries(6):
            rows = bank_item_analysis(s.bank.pk)
        assert len(rows) == questions and all(row.answered == 3 for row in rows)
        with django_assert_max_num_queries(6):
            question_item_analysis(s.versions[0].question_id)

    def test_finishing_an_attempt_checks_first_exposures_in_one_query(self):
        """Intended to prevent an n+1 issue: attempt_finish makes as many queries for 20 questions as for 2."""

        def finish_queries(questions):
            s = Sitting(questions=questions)
            learner = s.learner()
            s.sit(learner, {v: right(v) for v in s.versions[::2]})  # an earlier exposure to every other question
            attempt = s.sit(learner, {v: wrong(v) for v in s.versions}, at=2, finish=False)
            with CaptureQueriesContext(connection) as context:
                services.attempt_finish(attempt_id=attempt.pk, now=moment(3))
            return len(context.captured_queries)

        assert finish_queries(2) == finish_queries(20)
