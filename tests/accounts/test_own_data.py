"""A learner's own data (issue 12): the download holds everything about them and nothing of anyone else's; deleting
the account takes the person out and leaves the numbers others rely on as they were."""

import json

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from quizapp import audit
from quizapp.accounts.models import User
from quizapp.audit.models import AuditEvent
from quizapp.bank import editing
from quizapp.bank.models import QuestionReport
from quizapp.exams import item_analysis
from quizapp.exams import services as exam_services
from quizapp.groups import queries as group_queries
from quizapp.groups import services as group_services
from quizapp.groups.models import Membership
from tests.factories import PASSWORD, AssignmentFactory, StudyGroupFactory, UserFactory

pytestmark = pytest.mark.django_db

NAME, EMAIL = "zelda-learner", "zelda.private@example.org"


def signed_in(user):
    """A client signed in through the login form, as a browser is (so django-axes logs the sign-in)."""
    client = Client(REMOTE_ADDR="203.0.113.5")
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def answer_and_finish(user, blueprint, *, assignment=None, right=True):
    """A finished attempt with every question answered, right (first correct choice) or wrong."""
    now = timezone.now()
    if assignment is not None:
        attempt = group_services.assignment_attempt_start(assignment=assignment, user=user, now=now)
    else:
        attempt = exam_services.attempt_start(user=user, blueprint=blueprint, now=now, domain=first_domain(blueprint))
    for slot in attempt.slots.select_related("question_version").prefetch_related("question_version__choices"):
        choices = list(slot.question_version.choices.all())
        pick = [c.pk for c in choices if c.is_correct] if right else [next(c.pk for c in choices if not c.is_correct)]
        exam_services.attempt_save_answer(attempt_id=attempt.pk, position=slot.position, choice_ids=pick, now=now)
    return exam_services.attempt_finish(attempt_id=attempt.pk, now=timezone.now())


def first_domain(blueprint):
    return blueprint.bank.domains.first() if blueprint.asks_for_domain else None


def start_practice(user, blueprint):
    return exam_services.attempt_start(
        user=user, blueprint=blueprint, now=timezone.now(), domain=first_domain(blueprint)
    )


@pytest.fixture
def people(bank, timed_blueprint, practice_blueprint):
    """Zelda and another learner, each with attempts, a report and a group membership; the group's teacher."""
    zelda = UserFactory(username=NAME, email=EMAIL, first_name="Zelda", last_name="Quint")
    other = UserFactory(username="yorick-other", email="yorick@example.org")
    group = StudyGroupFactory(name="Cohort")
    assignment = AssignmentFactory(group=group, blueprint=timed_blueprint, attempt_limit=3)
    with audit.acting(user=zelda, ip="203.0.113.5"):
        group_services.group_join(user=zelda, group=group)
    group_services.group_join(user=other, group=group)
    with audit.acting(user=group.owner, ip="198.51.100.1"):
        membership = Membership.objects.get(user=zelda)
        group_services.membership_update(membership=membership, extra_time_percent=25, leaderboard_opt_in=True)
    finished = answer_and_finish(zelda, timed_blueprint, assignment=assignment)
    answer_and_finish(other, timed_blueprint, assignment=assignment, right=False)
    answer_and_finish(other, practice_blueprint)
    slot = finished.slots.select_related("question_version").first()
    report = editing.report_create(version=slot.question_version, reporter=zelda, kind="unclear", text="ZELDA-REPORT")
    editing.report_close(
        report=report, by=group.owner, status="resolved", reply=f"Thanks {NAME}, fixed.", now=timezone.now()
    )
    editing.report_create(version=slot.question_version, reporter=other, kind="other", text="YORICK-REPORT")
    open_attempt = start_practice(zelda, practice_blueprint)
    return {"zelda": zelda, "other": other, "group": group, "finished": finished, "open": open_attempt}


# --- The download ---------------------------------------------------------------------------------------------


def test_the_download_holds_the_learners_data_and_nothing_of_anyone_elses(people):
    zelda = people["zelda"]
    client = signed_in(zelda)
    page = client.get(reverse("privacy:data")).content.decode()
    assert reverse("privacy:download") in page and reverse("privacy:delete") in page
    settings_page = client.get(reverse("accounts:settings")).content.decode()
    assert reverse("privacy:data") in settings_page and reverse("privacy:delete") in settings_page

    response = client.get(reverse("privacy:download"))
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith(f'attachment; filename="quizapp-data-{NAME}-')
    raw = response.content.decode()
    data = json.loads(raw)
    assert data["account"]["username"] == NAME and data["account"]["email"] == EMAIL
    assert data["account"]["first_name"] == "Zelda"
    assert {a["id"] for a in data["attempts"]} == {str(people["finished"].pk), str(people["open"].pk)}
    finished = next(a for a in data["attempts"] if a["id"] == str(people["finished"].pk))
    assert finished["correct_count"] == finished["question_count"] == 6 and finished["score_percent"] == 100
    assert len(finished["answers"]) == 6
    first = finished["answers"][0]
    assert first["question_key"] and first["question_version"] == 1 and first["correct"] is True
    assert first["chosen"] and first["chosen"][0].startswith("Option ")
    still_open = next(a for a in data["attempts"] if a["id"] == str(people["open"].pk))
    assert still_open["correct_count"] is None and all(a["correct"] is None for a in still_open["answers"])
    assert [r["text"] for r in data["question_reports"]] == ["ZELDA-REPORT"]
    assert data["question_reports"][0]["reply"] == f"Thanks {NAME}, fixed."
    assert data["group_memberships"] == [
        {
            "group": "Cohort",
            "joined_at": data["group_memberships"][0]["joined_at"],
            "extra_time_percent": 25,
            "extra_time_minutes": 0,
            "leaderboard_opt_in": True,
        }
    ]
    assert [e["action"] for e in data["audit_trail"]] == ["group.member_join"]
    assert data["sign_ins"] and data["sign_ins"][0]["ip"] == "203.0.113.5"
    # Review cards are made when a finish commits, which this test's transaction never does: the export holds the
    # learner's cards as a list, empty here.
    assert data["review_cards"] == []

    # Nothing of the other learner, of the teacher, or of the answer key.
    for foreign in ("yorick", "YORICK-REPORT", people["group"].owner.username, "RATIONALE-", "EXPLANATION-"):
        assert foreign not in raw
    other_ids = {str(pk) for pk in people["other"].attempts.values_list("pk", flat=True)}
    assert not any(pk in raw for pk in other_ids)


def test_the_download_makes_the_same_queries_for_one_attempt_or_six(people, practice_blueprint):
    """Intended to prevent an n+1 issue: answers, choices and attempts are each read in one query."""
    zelda = people["zelda"]
    client = Client()
    client.force_login(zelda)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("privacy:download")).status_code == 200
        counts.append(len(queries))
        for _ in range(4):
            exam_services.attempt_finish(attempt_id=people["open"].pk, now=timezone.now())
            answer_and_finish(zelda, practice_blueprint)
            people["open"] = start_practice(zelda, practice_blueprint)
    assert counts[0] == counts[1]
    assert zelda.attempts.count() >= 6


def test_anonymous_visitors_are_sent_to_log_in():
    client = Client()
    for name in ("privacy:data", "privacy:download", "privacy:delete"):
        assert client.get(reverse(name))["Location"].startswith(reverse("accounts:login"))


# --- Deletion -------------------------------------------------------------------------------------------------


def database_dump() -> str:
    """Every row of every table the app and its libraries keep, as one text to search."""
    rows = []
    for model in apps.get_models():
        rows.append(repr(list(model.objects.order_by("pk").values_list())))
    return "\n".join(rows)


def figures(bank, group):
    """What others rely on: the bank's item analysis and the group's results."""
    stats = [
        (s.key, s.answered, s.facility, s.discrimination, [(o.choice_id, o.count) for o in s.option_counts])
        for s in item_analysis.bank_item_analysis(bank.pk)
    ]
    matrix = group_queries.results_matrix(group=group)
    averages = [(a["mean"], a["finished"], a["passed"]) for a in matrix.averages()]
    return stats, averages, len(matrix.members)


def test_a_wrong_password_deletes_nothing(people):
    client = signed_in(people["zelda"])
    response = client.post(reverse("privacy:delete"), {"password": "not-it"})
    assert response.status_code == 422 and "Nothing was deleted" in response.content.decode()
    assert User.objects.filter(username=NAME, is_active=True).exists()


def test_deleting_the_account_removes_the_person_and_keeps_the_figures(people, bank):
    zelda, group = people["zelda"], people["group"]
    laptop, phone = signed_in(zelda), signed_in(zelda)  # two devices
    before = figures(bank, group)
    assert NAME in database_dump() and EMAIL in database_dump()
    attempts, slots = zelda.attempts.count(), sum(a.slots.count() for a in zelda.attempts.all())

    assert laptop.get(reverse("privacy:delete")).status_code == 200
    response = laptop.post(reverse("privacy:delete"), {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")

    dump = database_dump()
    for personal in (NAME, EMAIL, "Zelda", "Quint", "ZELDA-REPORT"):
        assert personal.lower() not in dump.lower(), personal
    zelda.refresh_from_db()
    assert zelda.username.startswith("deleted-") and zelda.email == f"{zelda.username}@deleted.invalid"
    assert not zelda.is_active and not zelda.has_usable_password() and zelda.first_name == zelda.last_name == ""
    assert (zelda.time_zone, zelda.extra_time_percent, zelda.extra_time_minutes) == ("UTC", 0, 0)

    # What others rely on is unchanged: the same answers, statistics and group results, under the anonymous row.
    assert figures(bank, group) == before
    assert zelda.attempts.count() == attempts and sum(a.slots.count() for a in zelda.attempts.all()) == slots
    report = QuestionReport.objects.get(reporter=zelda)
    assert report.text == "" and report.reply == f"Thanks {zelda.username}, fixed."
    assert QuestionReport.objects.get(reporter=people["other"]).text == "YORICK-REPORT"
    assert not Membership.objects.get(user=zelda).leaderboard_opt_in

    # The trail keeps every event, under the anonymous name; the deletion is one more.
    events = AuditEvent.objects.filter(actor=zelda)
    assert set(events.values_list("action", flat=True)) == {"group.member_join", "account.delete"}
    assert set(events.values_list("actor_name", flat=True)) == {zelda.username}
    accommodation = AuditEvent.objects.get(action="group.accommodation")
    assert accommodation.summary.startswith(f"{zelda.username}:") and accommodation.actor_id == group.owner_id

    # Signed out here and on the other device; the old password opens nothing.
    login = reverse("accounts:login")
    assert laptop.get(reverse("accounts:settings"))["Location"].startswith(login)
    assert phone.get(reverse("accounts:settings"))["Location"].startswith(login)
    refused = Client().post(login, {"username": NAME, "password": PASSWORD})
    assert refused.status_code == 200 and "_auth_user_id" not in refused.client.session

    # The name is free again.
    signup = Client().post(
        reverse("accounts:signup"),
        {"username": NAME, "email": EMAIL, "password1": "a-new-long-pass-42", "password2": "a-new-long-pass-42"},
    )
    assert signup.status_code == 302
    assert User.objects.get(username=NAME).pk != zelda.pk
