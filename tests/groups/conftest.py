import pytest
from django.test import Client

from tests.factories import AssignmentFactory, MembershipFactory, StudyGroupFactory, UserFactory


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def teacher(db):
    return UserFactory(username="tess", role="instructor")


@pytest.fixture
def group(teacher):
    return StudyGroupFactory(owner=teacher, name="Tuesday cohort")


@pytest.fixture
def member(group):
    return MembershipFactory(group=group, user=UserFactory(username="mia")).user


@pytest.fixture
def assignment(group, timed_blueprint):
    return AssignmentFactory(group=group, blueprint=timed_blueprint, attempt_limit=2)
