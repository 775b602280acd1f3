"""Security promises that can fail (docs/security.md): CSRF on every POST route, no answer key in any response of
an attempt in progress, hostile text rendered as text everywhere it is shown, and idle sessions that end."""

import re
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from quizapp.bank import editing
from quizapp.bank.models import Question
from quizapp.exams import services
from quizapp.groups import services as group_services
from tests.factories import BlueprintFactory, UserFactory
from tests.studio.helpers import instructor, new_bank, question_post
from tests.test_url_walk import EXPECTATIONS, OK, ROLES, database_fingerprint, url_names, world  # noqa: F401

pytestmark = pytest.mark.django_db
PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_every_post_route_refuses_a_request_without_the_csrf_token(world):  # noqa: F811
    users, args = world
    checked = []
    for name in url_names():
        allowed, methods, objects = EXPECTATIONS[name]
        if "POST" not in methods:
            continue
        role = next(r for r in reversed(ROLES) if allowed[r] == OK)  # someone who may post there
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            client = Client(enforce_csrf_checks=True)
            if role != "anonymous":
                client.force_login(users[role])
            before = database_fingerprint()
            response = client.post(reverse(name, args=args[objects]), {"x": "1"}, **headers)
            assert response.status_code == 403, (name, role, headers, response.status_code)
            assert database_fingerprint() == before, f"{name}: a refused POST changed the database"
        checked.append(name)
    assert len(checked) >= 30  # every POST route of the app, not a sample


def key_fragments(attempt):
    """Every piece of text that would give away an answer: rationales, explanations, correctness markers."""
    fragments = []
    for slot in attempt.slots.select_related("question_version").prefetch_related("question_version__choices"):
        fragments.append(slot.question_version.explanation)
        fragments += [c.rationale for c in slot.question_version.choices.all() if c.rationale]
    return fragments


def test_no_response_of_an_attempt_in_progress_holds_a_key_rationale_or_explanation(learner, learner_client, bank):
    blueprint = BlueprintFactory(bank=bank, slug="keyless", question_count=6, duration_minutes=30)
    for question in bank.questions.all():
        for version in question.versions.all():
            for choice in version.choices.all():
                choice.rationale = (
                    f"Rationale {choice.pk}: why this option is {'good' if choice.is_correct else 'bad'}."
                )
                choice.save()
    attempt = services.attempt_start(user=learner, blueprint=blueprint, now=timezone.now())
    bodies = []
    hx = {"HTTP_HX_REQUEST": "true"}
    for name in ("exams:attempt", "exams:review", "exams:status", "exams:pack", "exams:result", "exams:answers"):
        response = learner_client.get(reverse(name, args=[attempt.pk]), follow=True)
        bodies.append(response.content.decode())
    for position in range(1, attempt.question_count + 1):
        url = reverse("exams:question", args=[attempt.pk, position])
        bodies.append(learner_client.get(url).content.decode())
        bodies.append(learner_client.get(url, **hx).content.decode())
        slot = attempt.slots.get(position=position)
        answer = reverse("exams:answer", args=[attempt.pk, position])
        bodies.append(learner_client.post(answer, {"choice": [slot.choice_order[0]]}, **hx).content.decode())
        bodies.append(
            learner_client.post(answer, {"choice": [slot.choice_order[1]], "go": "stay"}, follow=True).content.decode()
        )
        flag = reverse("exams:flag", args=[attempt.pk, position])
        bodies.append(learner_client.post(flag, {"flagged": "1"}, **hx).content.decode())
    fragments = key_fragments(attempt)
    assert fragments
    for body in bodies:
        for fragment in fragments:
            assert fragment not in body
        assert "is-correct" not in body and '"is_correct"' not in body and "Correct." not in body
    # The checker can fail: the finished attempt's review, the answers page, does show them.
    services.attempt_finish(attempt_id=attempt.pk, now=timezone.now())
    review = learner_client.get(reverse("exams:answers", args=[attempt.pk])).content.decode()
    assert any(fragment in review for fragment in fragments)


def test_hostile_text_in_every_field_people_write_is_shown_as_text(learner):
    owner = instructor("owner")
    bank = new_bank(owner, title=f"Bank {PAYLOAD}")
    studio = Client()
    studio.force_login(owner)
    options = [(f"Option {i} {PAYLOAD}", i == 0, f"Because {PAYLOAD}") for i in range(4)]
    response = studio.post(
        reverse("studio:question_create", args=[bank.slug]),
        question_post(stem=f"A team ships {PAYLOAD}. It wants {PAYLOAD} to work. Which fits?", options=options),
    )
    assert response.status_code == 302, re.findall(r'class="error"[^>]*>([^<]+)', response.content.decode())
    question = Question.objects.get(bank=bank)
    editing.question_set_status(question=question, status=Question.Status.PUBLISHED)
    editing.bank_update(bank=bank, title=bank.title, description=PAYLOAD, status="published")
    blueprint = BlueprintFactory(
        bank=bank,
        slug="hostile",
        title=f"Exam {PAYLOAD}",
        question_count=1,
        duration_minutes=None,
        mode="practice",
        domain_weights={"1": 1},
    )
    attempt = services.attempt_start(user=learner, blueprint=blueprint, now=timezone.now())
    services.attempt_finish(attempt_id=attempt.pk, now=timezone.now())
    report = editing.report_create(version=question.current_version, reporter=learner, kind="other", text=PAYLOAD)
    editing.report_close(report=report, by=owner, status="resolved", reply=PAYLOAD, now=timezone.now())
    group = group_services.group_create(owner=owner, name=f"Group {PAYLOAD}", description=PAYLOAD)
    group_services.group_join(user=learner, group=group)
    group_services.assignment_create(
        group=group,
        blueprint=blueprint,
        opens_at=timezone.now(),
        closes_at=timezone.now() + timezone.timedelta(days=1),
        attempt_limit=1,
        review_policy="after_submit",
    )
    learner_client = Client()
    learner_client.force_login(learner)
    pages = {
        studio: [
            reverse("studio:home"),
            reverse("studio:bank", args=[bank.slug]),
            reverse("studio:question", args=[bank.slug, question.key]),
            reverse("studio:reports", args=[bank.slug]),
            reverse("studio:blueprints", args=[bank.slug]),
            reverse("groups:detail", args=[group.pk]),
            reverse("groups:results", args=[group.pk]),
            reverse("groups:home"),
        ],
        learner_client: [
            reverse("home"),
            reverse("exams:catalogue"),
            reverse("exams:result", args=[attempt.pk]),
            reverse("exams:answers", args=[attempt.pk]),
            reverse("history"),
            reverse("groups:detail", args=[group.pk]),
            reverse("groups:home"),
        ],
    }
    # An imported file: its questions appear in the preview before anything is written.
    gift = f"::Hostile::A team ships {PAYLOAD}. Which fits?{{={PAYLOAD} ~wrong ~also wrong ~still wrong}}"
    upload = {
        "file": SimpleUploadedFile("hostile.gift", gift.encode()),
        "file_format": "gift",
        "domain": "1",
        "task": "1.4",
        "topic": "deployment",
    }
    preview = studio.post(reverse("studio:import", args=[bank.slug]), upload)
    assert preview.status_code == 302
    pages[studio].append(preview.url)
    tried = 0
    for client, urls in pages.items():
        for url in urls:
            response = client.get(url)
            body = response.content.decode()
            assert response.status_code == 200, url  # a redirect's empty body would prove nothing
            assert "<script>alert" not in body and "<img src=x" not in body, url
            tried += 1
    assert "&lt;script&gt;alert" in learner_client.get(reverse("groups:detail", args=[group.pk])).content.decode()
    assert tried == 16


def test_an_idle_session_ends_and_an_active_one_is_renewed(settings, learner):
    from django.conf import settings as django_settings

    assert django_settings.SESSION_COOKIE_AGE == 12 * 3600 and django_settings.SESSION_COOKIE_HTTPONLY
    client = Client()
    client.force_login(learner)
    client.get(reverse("home"))
    session = client.session
    first_expiry = session.get_expiry_date()
    settings.SESSION_REFRESH_SECONDS = 1
    time.sleep(1.1)
    client.get(reverse("home"))
    assert client.session.get_expiry_date() > first_expiry  # activity renews the idle window
    from django.contrib.sessions.models import Session

    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))  # 12 idle hours later
    response = client.get(reverse("history"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_offline_pack_holds_no_key_and_is_only_for_a_running_timed_attempt(learner, learner_client, bank):
    timed = BlueprintFactory(bank=bank, slug="packed", question_count=4, duration_minutes=20)
    attempt = services.attempt_start(user=learner, blueprint=timed, now=timezone.now())
    pack = learner_client.get(reverse("exams:pack", args=[attempt.pk])).json()
    assert [q["position"] for q in pack["questions"]] == [1, 2, 3, 4]
    assert all(set(c) == {"id", "text"} for q in pack["questions"] for c in q["choices"])
    text = re.sub(r"\s+", " ", str(pack))
    for fragment in key_fragments(attempt):
        assert fragment not in text
    drill = BlueprintFactory(bank=bank, slug="drilled", mode="practice", duration_minutes=None, question_count=2)
    practice = services.attempt_start(user=learner, blueprint=drill, now=timezone.now())
    assert learner_client.get(reverse("exams:pack", args=[practice.pk])).status_code == 404
    other = Client()
    other.force_login(UserFactory())
    assert other.get(reverse("exams:pack", args=[attempt.pk])).status_code == 404
    services.attempt_finish(attempt_id=attempt.pk, now=timezone.now())
    assert learner_client.get(reverse("exams:pack", args=[attempt.pk])).status_code == 404
