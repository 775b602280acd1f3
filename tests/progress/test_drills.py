"""Smart drill, weak-area drills and notes: seeded selection, shares toward weak domains, no repeats, mastery."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from quizapp.bank.models import QuestionVersion
from quizapp.exams.models import Attempt
from quizapp.progress import drills
from tests.factories import BlueprintFactory, NoteFactory, bank_with_questions

from .helpers import domain_of, take

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_bank(db):
    return bank_with_questions(per_domain=12, slug="big")


@pytest.fixture
def weak_in_domain_2(big_bank, learner):
    """A learner who got every domain-2 question wrong and every other right, over two mocks."""
    mock = BlueprintFactory(bank=big_bank, slug="mock", title="Mock", question_count=36, duration_minutes=60)
    now = timezone.now()
    take(learner, mock, now=now - timedelta(days=2), right=lambda s: domain_of(s) != 2)
    take(learner, mock, now=now - timedelta(days=1), right=lambda s: domain_of(s) != 2, seed=3)
    return big_bank


def domains_of(version_ids):
    return list(QuestionVersion.objects.filter(pk__in=version_ids).values_list("domain__number", flat=True))


def test_the_same_seed_draws_the_same_set(weak_in_domain_2, learner):
    now = timezone.now()
    first = drills.smart_plan(learner, weak_in_domain_2, now, seed=42)
    again = drills.smart_plan(learner, weak_in_domain_2, now, seed=42)
    other = drills.smart_plan(learner, weak_in_domain_2, now, seed=43)
    assert first.version_ids == again.version_ids
    assert first.version_ids != other.version_ids


def test_the_smart_drill_never_repeats_a_question(weak_in_domain_2, learner):
    for seed in range(20):
        plan = drills.smart_plan(learner, weak_in_domain_2, timezone.now(), seed=seed)
        assert len(plan.version_ids) == drills.SMART_SIZE
        assert len(set(plan.version_ids)) == len(plan.version_ids)


def test_the_smart_drill_leans_toward_the_weakest_domain(weak_in_domain_2, learner):
    drawn = []
    for seed in range(40):
        drawn += domains_of(drills.smart_plan(learner, weak_in_domain_2, timezone.now(), seed=seed).version_ids)
    share = drawn.count(2) / len(drawn)
    assert share > 0.5  # domain 2 holds 1/6 of the bank; its share of drills is far larger
    plan = drills.smart_plan(learner, weak_in_domain_2, timezone.now(), seed=1)
    assert "Domain name 2 (0 % right)" in plan.reasons[0]


def test_the_smart_drill_leans_toward_unseen_questions(big_bank, learner):
    mock = BlueprintFactory(bank=big_bank, slug="m", title="M", question_count=36, duration_minutes=60)
    take(learner, mock, now=timezone.now() - timedelta(days=1), right=lambda s: s.position % 2 == 0)
    unseen = 0
    for seed in range(30):
        unseen += drills.smart_plan(learner, big_bank, timezone.now(), seed=seed).unseen
    assert unseen / (30 * drills.SMART_SIZE) > 0.5  # half the bank is unseen, and unseen weigh double


def test_the_start_page_says_why_and_start_draws_that_set(weak_in_domain_2, learner, learner_client):
    page = learner_client.get(reverse("progress:smart_drill"), {"seed": "7", "bank": weak_in_domain_2.slug})
    text = page.content.decode()
    assert "Why these questions" in text and "weakest domains" in text
    planned = drills.smart_plan(learner, weak_in_domain_2, timezone.now(), seed=7).version_ids
    response = learner_client.post(reverse("progress:smart_drill"), {"seed": "7", "bank": weak_in_domain_2.slug})
    attempt = Attempt.objects.get(context="smart-drill")
    assert response["Location"] == attempt.get_absolute_url()
    assert list(attempt.slots.values_list("question_version_id", flat=True)) == planned
    assert attempt.is_practice


def test_junk_seeds_are_replaced(weak_in_domain_2, learner_client):
    for junk in ["abc", "-1", "9" * 30, "１２"]:
        assert learner_client.get(reverse("progress:smart_drill"), {"seed": junk}).status_code == 200


def test_a_weak_domain_drill_has_exactly_that_domain(weak_in_domain_2, learner, learner_client):
    domain = weak_in_domain_2.domains.get(number=2)
    page = learner_client.get(reverse("progress:domain_drill", args=[domain.pk])).content.decode()
    assert "Only questions from Domain 2" in page
    learner_client.post(reverse("progress:domain_drill", args=[domain.pk]), {"seed": "3"})
    attempt = Attempt.objects.get(context=f"domain:{domain.pk}")
    assert set(attempt.slots.values_list("question_version__domain__number", flat=True)) == {2}
    assert attempt.question_count == drills.AREA_SIZE


def test_a_topic_drill_has_exactly_that_topic(weak_in_domain_2, learner_client):
    topic = weak_in_domain_2.topics.first()
    learner_client.post(reverse("progress:topic_drill", args=[topic.pk]), {"seed": "3"})
    attempt = Attempt.objects.get(context=f"topic:{topic.pk}")
    assert set(attempt.slots.values_list("question_version__topic_id", flat=True)) == {topic.pk}


def test_draft_banks_are_not_drilled(learner_client):
    draft = bank_with_questions(per_domain=1, slug="draft")
    draft.status = "draft"
    draft.save()
    assert learner_client.get(reverse("progress:domain_drill", args=[draft.domains.first().pk])).status_code == 404


def test_notes_show_mastery_and_practise_exactly_their_questions(big_bank, learner, learner_client):
    note = NoteFactory(bank=big_bank, key="deploy-09", heading="DevOps choices / Deployment", text="blue/green")
    other = NoteFactory(bank=big_bank, key="cw-01", heading="Monitoring", text="alarms")
    cited = list(QuestionVersion.objects.filter(question__bank=big_bank, domain__number=1)[:3])
    for version in cited:
        version.notes.add(note)
    blueprint = BlueprintFactory(
        bank=big_bank,
        slug="d1",
        title="D1",
        mode="practice",
        question_count=12,
        duration_minutes=None,
        domain_selection="chosen",
    )
    first_cited = cited[0].pk
    take(
        learner,
        blueprint,
        now=timezone.now(),
        right=lambda s: s.question_version_id != first_cited,
        domain=big_bank.domains.get(number=1),
    )
    page = learner_client.get(reverse("progress:notes")).content.decode()
    assert "DevOps choices / Deployment" in page and "Monitoring" in page
    assert "67% right" in page and "of 3 answers" in page
    assert "Practise 3 questions" in page
    assert "No questions cite this note yet" in page  # the other note
    start = learner_client.get(reverse("progress:note_drill", args=[note.pk])).content.decode()
    assert "Exactly the 3 published question(s) that cite note [deploy-09]" in start
    learner_client.post(reverse("progress:note_drill", args=[note.pk]))
    attempt = Attempt.objects.get(context=f"note:{note.pk}")
    assert set(attempt.slots.values_list("question_version_id", flat=True)) == {v.pk for v in cited}
    assert other.pk


def test_a_drill_in_progress_is_resumed_not_redrawn(weak_in_domain_2, learner_client):
    learner_client.post(reverse("progress:smart_drill"), {"seed": "7", "bank": weak_in_domain_2.slug})
    attempt = Attempt.objects.get(context="smart-drill")
    page = learner_client.get(reverse("progress:smart_drill")).content.decode()
    assert "You have this drill in progress" in page and attempt.get_absolute_url() in page
    assert 'name="seed"' not in page
    learner_client.post(reverse("progress:smart_drill"), {"seed": "8", "bank": weak_in_domain_2.slug})
    assert Attempt.objects.filter(context="smart-drill").count() == 1
