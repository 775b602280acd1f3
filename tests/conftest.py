import pytest
from django.core.cache import cache
from django.test import Client

from .factories import BlueprintFactory, UserFactory, bank_with_questions


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate-limit counters live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def bank(db):
    return bank_with_questions(per_domain=5)


@pytest.fixture
def timed_blueprint(bank):
    return BlueprintFactory(bank=bank, slug="timed", title="Timed test", question_count=6, duration_minutes=30)


@pytest.fixture
def practice_blueprint(bank):
    return BlueprintFactory(
        bank=bank,
        slug="drill",
        title="Drill",
        mode="practice",
        question_count=4,
        duration_minutes=None,
        domain_selection="chosen",
    )


@pytest.fixture
def learner(db):
    return UserFactory(username="alice")


@pytest.fixture
def other_learner(db):
    return UserFactory(username="mallory")


@pytest.fixture
def learner_client(learner):
    client = Client()
    client.force_login(learner)
    return client
