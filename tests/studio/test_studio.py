"""Instructor-managed banks (issue 7): roles, banks and editors, the question editor, versions, exams, reports."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from quizapp.accounts.models import User
from quizapp.bank import editing
from quizapp.bank.models import Bank, Question, QuestionReport
from quizapp.exams import services
from quizapp.exams.models import Attempt
from tests.factories import UserFactory

from .helpers import EXPLANATION, domain_one_exam, instructor, new_bank, question_post

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def create_question(client, bank, **overrides):
    response = client.post(reverse("studio:question_create", args=[bank.slug]), question_post(**overrides))
    assert response.status_code == 302, re.findall(r'class="error"[^>]*>([^<]+)', response.content.decode())
    return Question.objects.get(bank=bank, key=response.url.rstrip("/").split("/")[-1])


def test_grant_instructor_gives_and_takes_the_role():
    user = UserFactory(username="tess")
    call_command("grant_instructor", "tess", stdout=StringIO())
    user.refresh_from_db()
    assert user.is_instructor
    call_command("grant_instructor", "tess", "--revoke", stdout=StringIO())
    user.refresh_from_db()
    assert not user.is_instructor


def test_the_studio_does_not_exist_for_learners():
    learner = UserFactory()
    assert client_for(learner).get("/studio/").status_code == 404
    assert Client().get("/studio/").status_code == 302


def test_an_instructor_creates_a_draft_bank_with_the_exam_guides_domains():
    owner = instructor()
    client = client_for(owner)
    response = client.post("/studio/banks/new/", {"title": "Pipeline practice", "description": "Week 3"})
    bank = Bank.objects.get(title="Pipeline practice")
    assert response.url == f"/studio/banks/{bank.slug}/"
    assert bank.owner == owner and bank.status == Bank.Status.DRAFT
    assert list(bank.domains.values_list("weight", flat=True)) == [22, 17, 15, 15, 14, 17]
    assert bank.domains.get(number=1).tasks.count() == 4


def test_the_owner_adds_and_removes_editors_by_username_and_only_instructors():
    owner, colleague = instructor(), instructor("cole")
    learner = UserFactory(username="lee")
    bank = new_bank(owner)
    client = client_for(owner)
    url = reverse("studio:bank_editors", args=[bank.slug])
    refused = client.post(url, {"username": "lee"})
    assert "not an instructor" in refused.content.decode() and not bank.editors.exists()
    assert "No account is called" in client.post(url, {"username": "nobody"}).content.decode()
    client.post(url, {"username": "Cole"})
    assert list(bank.editors.all()) == [colleague]
    # The editor edits questions but does not manage the bank.
    editor = client_for(colleague)
    assert editor.get(reverse("studio:bank", args=[bank.slug])).status_code == 200
    assert editor.get(url).status_code == 404
    assert (
        editor.post(
            reverse("studio:bank_settings", args=[bank.slug]), {"title": "x", "status": "published"}
        ).status_code
        == 404
    )
    client.post(url, {"remove": str(colleague.pk)})
    assert not bank.editors.exists()
    assert editor.get(reverse("studio:bank", args=[bank.slug])).status_code == 404
    assert learner.pk  # a learner never edits


class TestQuestionEditor:
    def test_a_valid_question_is_saved_as_a_draft_and_previewed_as_a_learner_sees_it(self):
        owner = instructor()
        bank = new_bank(owner)
        client = client_for(owner)
        question = create_question(client, bank)
        assert question.status == Question.Status.DRAFT
        version = question.current_version
        assert [c.is_correct for c in version.choices.all()] == [True, False, False, False]
        page = client.get(reverse("studio:question", args=[bank.slug, question.key])).content.decode()
        assert "As a learner sees it during a timed exam" in page and "As it appears in the review" in page
        exam_half, review_half = page.split("As it appears in the review")
        assert "Correct answer" not in exam_half and "Ten percent first" not in exam_half
        assert "Correct answer" in review_half and "Ten percent first" in review_half

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            (
                {"options": [("A", True, "r"), ("B", True, "r"), ("C", False, "r"), ("D", False, "r")]},
                "exactly one correct option; 2 are marked",
            ),
            (
                {
                    "kind": "multiple",
                    "stem": "A team runs a pipeline. It needs two things checked before release. (Choose TWO.)",
                    "options": [
                        ("A", True, "r"),
                        ("B", True, "r"),
                        ("C", True, "r"),
                        ("D", False, "r"),
                        ("E", False, "r"),
                    ],
                },
                "says “Choose TWO” but 3 options are marked correct",
            ),
            (
                {"options": [("A", True, "r"), ("B", False, "r"), ("C", False, "r")]},
                "at least four options; this one has 3",
            ),
            (
                {"options": [("A", True, "r"), ("B", False, ""), ("C", False, "r"), ("D", False, "r")]},
                "Write a one-line rationale",
            ),
            ({"explanation": "Too short."}, "The explanation has 2 words"),
            ({"task": "2.1"}, "Task 2.1 belongs to domain 2, not 1"),
            ({"references": "https://example.com/not-aws"}, "is not an https page on docs.aws.amazon.com"),
        ],
    )
    def test_validation_messages_are_next_to_the_field_and_nothing_is_saved(self, overrides, message):
        owner = instructor()
        bank = new_bank(owner)
        response = client_for(owner).post(
            reverse("studio:question_create", args=[bank.slug]), question_post(**overrides)
        )
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not Question.objects.filter(bank=bank).exists()

    def test_add_and_remove_options_without_javascript_and_with_htmx_keep_what_was_typed(self):
        owner = instructor()
        bank = new_bank(owner)
        client = client_for(owner)
        url = reverse("studio:question_create", args=[bank.slug])
        added = client.post(url, question_post(add_option="1")).content.decode()
        assert added.count('class="option-row"') == 5 and "Canary10Percent10Minutes" in added
        assert not Question.objects.exists()
        removed = client.post(url, question_post(remove_option="1"), HTTP_HX_REQUEST="true").content.decode()
        assert removed.count('class="option-row"') == 3 and "AllAtOnce" not in removed
        assert removed.lstrip().startswith('<form id="question-form"')  # HTMX gets just the form

    def test_saving_a_drawn_question_makes_a_new_version_and_the_past_attempt_keeps_its_own(self):
        owner = instructor()
        bank = new_bank(owner)
        client = client_for(owner)
        question = create_question(client, bank)
        editing.question_set_status(question=question, status=Question.Status.PUBLISHED)
        blueprint = domain_one_exam(bank, title="One")
        learner = UserFactory()
        attempt = services.attempt_start(user=learner, blueprint=blueprint, now=timezone.now())
        first_version = question.current_version
        edited = question_post(stem=question_post()["stem"].replace("10 percent", "ten percent"))
        client.post(reverse("studio:question_edit", args=[bank.slug, question.key]), edited)
        question.refresh_from_db()
        assert question.current_version.number == 2
        assert attempt.slots.get().question_version == first_version
        history = client.get(reverse("studio:question_history", args=[bank.slug, question.key])).content.decode()
        assert "Version 1 → version 2" in history
        assert "<del>10</del>" in history and "<ins>ten</ins>" in history
        # An unchanged save writes no version.
        client.post(reverse("studio:question_edit", args=[bank.slug, question.key]), edited)
        question.refresh_from_db()
        assert question.current_version.number == 2

    def test_author_text_is_escaped_everywhere(self):
        owner = instructor()
        bank = new_bank(owner)
        client = client_for(owner)
        script = "<script>alert(1)</script>"
        stem = f"A team writes {script} in a stem. It must be shown as text. Which option is safe?"
        question = create_question(client, bank, stem=stem)
        for url in [
            reverse("studio:question", args=[bank.slug, question.key]),
            reverse("studio:bank", args=[bank.slug]),
        ]:
            body = client.get(url).content.decode()
            assert script not in body and "&lt;script&gt;" in body


def test_status_draft_published_retired_and_only_published_questions_are_drawn():
    owner = instructor()
    bank = new_bank(owner)
    client = client_for(owner)
    question = create_question(client, bank)
    url = reverse("studio:question_status", args=[bank.slug, question.key])
    client.post(url, {"status": "retired"})  # a draft cannot be retired
    question.refresh_from_db()
    assert question.status == Question.Status.DRAFT
    assert not Question.objects.published().filter(bank=bank).exists()
    client.post(url, {"status": "published"})
    question.refresh_from_db()
    assert question.status == Question.Status.PUBLISHED
    client.post(url, {"status": "retired"})
    question.refresh_from_db()
    assert question.status == Question.Status.RETIRED
    assert not Question.objects.published().filter(bank=bank).exists()


def test_the_question_list_filters_searches_and_shows_thin_domains(django_assert_max_num_queries):
    """Intended to prevent an n+1 issue: the list's query count does not grow with the questions shown."""
    owner = instructor()
    bank = new_bank(owner)
    client = client_for(owner)
    for n in range(12):
        question = create_question(
            client, bank, stem=f"Team {n} deploys a Lambda function. It wants a canary. Which configuration?"
        )
        if n % 2:
            editing.question_set_status(question=question, status=Question.Status.PUBLISHED)
    url = reverse("studio:bank", args=[bank.slug])
    with django_assert_max_num_queries(14):
        page = client.get(url).content.decode()
    assert page.count('class="pill pill-weak">thin') == 5  # only domain 1 has questions
    assert 'Questions <span class="muted">(12)</span>' in page
    only_drafts = client.get(url, {"status": "draft"}).content.decode()
    assert "(6)" in only_drafts
    found = client.get(url, {"q": "Team 7 "}).content.decode()
    assert "(1)" in found
    assert "(0)" in client.get(url, {"domain": "2"}).content.decode()


def test_a_blueprint_the_bank_cannot_fill_is_refused_with_the_shortfall_per_domain():
    owner = instructor()
    bank = new_bank(owner)
    client = client_for(owner)
    for n in range(3):
        question = create_question(client, bank, stem=f"Team {n} deploys a function. It wants a canary. Which one?")
        editing.question_set_status(question=question, status=Question.Status.PUBLISHED)
    url = reverse("studio:blueprint_create", args=[bank.slug])
    data = {
        "title": "Quick quiz",
        "description": "",
        "mode": "timed",
        "question_count": "10",
        "duration_minutes": "20",
        "pass_mark_percent": "75",
        "domain_selection": "weighted",
        "is_active": "on",
        "shuffle_options": "on",
    }
    refused = client.post(url, data).content.decode()
    assert "cannot fill this exam" in refused
    assert "Domain 2 (Configuration Management and IaC) has 0 published question(s); this exam draws 2" in refused
    assert not bank.blueprints.exists()
    data.update(question_count="3", weight_1="1")
    assert client.post(url, data).status_code == 302
    blueprint = bank.blueprints.get()
    assert blueprint.domain_weights == {"1": 1} and blueprint.is_timed
    untimed = dict(data, duration_minutes="")
    assert "A timed exam needs a duration" in client.post(url, untimed).content.decode()


def test_learners_see_exams_only_from_published_banks_and_editors_can_try_their_drafts():
    owner = instructor()
    bank = new_bank(owner)
    client = client_for(owner)
    question = create_question(client, bank)
    editing.question_set_status(question=question, status=Question.Status.PUBLISHED)
    domain_one_exam(bank, title="Draft bank exam")
    learner = client_for(UserFactory())
    detail = reverse("exams:blueprint", args=[bank.slug, "one"])
    assert "Draft bank exam" not in learner.get("/exams/").content.decode()
    assert learner.get(detail).status_code == 404
    assert client.get(detail).status_code == 200  # the owner tries it
    client.post(reverse("studio:bank_settings", args=[bank.slug]), {"title": bank.title, "status": "published"})
    assert "Draft bank exam" in learner.get("/exams/").content.decode()


def test_a_learner_reports_a_question_from_the_review_and_reads_the_reply_on_the_dashboard():
    owner = instructor()
    bank = new_bank(owner)
    studio = client_for(owner)
    question = create_question(studio, bank)
    editing.question_set_status(question=question, status=Question.Status.PUBLISHED)
    editing.bank_update(bank=bank, title=bank.title, description="", status=Bank.Status.PUBLISHED)
    blueprint = domain_one_exam(bank, title="One")
    person = UserFactory(username="rae")
    learner = client_for(person)
    attempt = services.attempt_start(user=person, blueprint=blueprint, now=timezone.now())
    report_url = reverse("exams:report", args=[attempt.pk, 1])
    assert learner.get(report_url).status_code == 404  # not during the exam
    services.attempt_finish(attempt_id=attempt.pk, now=timezone.now())
    assert report_url in learner.get(reverse("exams:answers", args=[attempt.pk])).content.decode()
    learner.post(report_url, {"kind": "out_of_date", "text": "Linear configs changed."})
    report = QuestionReport.objects.get()
    assert report.version == question.current_version and report.reporter == person
    inbox = studio.get(reverse("studio:reports", args=[bank.slug])).content.decode()
    assert "Linear configs changed." in inbox
    close = reverse("studio:report_close", args=[bank.slug, report.pk])
    assert studio.post(close, {f"report-{report.pk}-status": "resolved"}).status_code == 422  # a reply is required
    studio.post(close, {f"report-{report.pk}-status": "resolved", f"report-{report.pk}-reply": "Fixed in v2, thanks!"})
    report.refresh_from_db()
    assert report.status == QuestionReport.Status.RESOLVED and report.replied_by == owner
    assert "Fixed in v2, thanks!" in learner.get("/").content.decode()
    # Another learner cannot report on this attempt, and another instructor cannot answer.
    assert client_for(UserFactory()).get(report_url).status_code == 404
    assert client_for(instructor("other")).get(reverse("studio:reports", args=[bank.slug])).status_code == 404


def test_item_analysis_page_lists_every_question_with_flags(django_assert_max_num_queries):
    """Intended to prevent an n+1 issue: the page's query count is constant in questions and responses."""
    owner = instructor()
    bank = new_bank(owner)
    client = client_for(owner)
    for n in range(6):
        question = create_question(client, bank, stem=f"Team {n} deploys a function. It wants a canary. Which one?")
        editing.question_set_status(question=question, status=Question.Status.PUBLISHED)
    blueprint = domain_one_exam(bank, slug="all", question_count=6, title="All")
    for _ in range(3):
        attempt = services.attempt_start(user=UserFactory(), blueprint=blueprint, now=timezone.now())
        services.attempt_finish(attempt_id=attempt.pk, now=timezone.now())
    with django_assert_max_num_queries(14):
        page = client.get(reverse("studio:analysis", args=[bank.slug])).content.decode()
    assert page.count("not enough data") >= 6
    assert Attempt.objects.finished().count() == 3


def test_the_bank_layer_does_not_import_the_exam_engine():
    """Layers point down only: loading a folder with its exams is orchestrated by exams, not by bank."""
    from pathlib import Path

    bank_dir = Path(__file__).resolve().parents[2] / "quizapp" / "bank"
    offenders = [
        str(path.relative_to(bank_dir))
        for path in bank_dir.rglob("*.py")
        if re.search(r"^\s*(from|import) quizapp\.(exams|groups|progress|studio)", path.read_text(), re.M)
    ]
    assert offenders == []


def test_demo_data_gives_the_instructor_a_published_demo_bank_and_the_learner_finished_attempts(settings):
    settings.DEBUG = True
    call_command("load_bank", stdout=StringIO())
    call_command("create_demo_data", stdout=StringIO())
    call_command("create_demo_data", stdout=StringIO())  # idempotent
    teacher = User.objects.get(username="instructor")
    bank = Bank.objects.get(owner=teacher)
    assert bank.is_published and bank.questions.count() >= 19 and bank.blueprints.count() == 1
    assert Attempt.objects.filter(user__username="learner", context="").finished().count() == 3
    from quizapp.groups.models import StudyGroup

    group = StudyGroup.objects.get(owner=teacher)
    assert group.memberships.get().user.username == "learner" and group.assignments.count() == 2
    assert Attempt.objects.filter(user__username="learner", context__startswith="assignment:").finished().count() == 1
    assert EXPLANATION  # the helper text used above is a valid explanation length


def test_item_analysis_shows_option_shares_as_percentages():
    owner = instructor()
    bank = new_bank(owner)
    client = client_for(owner)
    question = create_question(client, bank)
    editing.question_set_status(question=question, status=Question.Status.PUBLISHED)
    blueprint = domain_one_exam(bank, title="One", shuffle_options=False)
    key = question.current_version.choices.get(is_correct=True).pk
    for _ in range(4):
        attempt = services.attempt_start(user=UserFactory(), blueprint=blueprint, now=timezone.now())
        services.attempt_save_answer(attempt_id=attempt.pk, position=1, choice_ids=[key], now=timezone.now())
        services.attempt_finish(attempt_id=attempt.pk, now=timezone.now())
    page = client.get(reverse("studio:analysis", args=[bank.slug])).content.decode()
    assert "1: 100%" in page and "2: 0%" in page


def test_the_hidden_practice_set_is_neither_listed_nor_editable_in_the_studio():
    from quizapp.exams.practice_sets import practice_blueprint

    owner = instructor()
    bank = new_bank(owner)
    hidden = practice_blueprint(bank)
    client = client_for(owner)
    assert hidden.title not in client.get(reverse("studio:blueprints", args=[bank.slug])).content.decode()
    assert client.get(reverse("studio:blueprint_edit", args=[bank.slug, hidden.slug])).status_code == 404
