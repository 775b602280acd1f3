import random
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from quizapp.bank.models import Choice, QuestionVersion
from quizapp.exams import services
from quizapp.exams.models import Attempt, AttemptSlot, AttemptState
from tests.factories import BlueprintFactory, UserFactory, bank_with_questions, make_version

pytestmark = pytest.mark.django_db


def start(client, blueprint, **data):
    url = reverse("exams:blueprint", args=[blueprint.bank.slug, blueprint.slug])
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:500]
    return Attempt.objects.get(pk=response.url.split("/")[2])


def q_url(attempt, position, action=None):
    name = f"exams:{action}" if action else "exams:question"
    return reverse(name, args=[attempt.pk, position])


def displayed_choice_ids(response):
    return [int(v) for v in re.findall(r'name="choice" value="(\d+)"', response.content.decode())]


def checked_choice_ids(response):
    return [int(v) for v in re.findall(r'name="choice" value="(\d+)"\s+checked', response.content.decode())]


def answer_key_texts(attempt):
    """Every explanation and rationale of the attempt's questions: none may reach the browser mid-exam."""
    versions = QuestionVersion.objects.filter(slots__attempt=attempt)
    texts = list(versions.values_list("explanation", flat=True))
    texts += list(Choice.objects.filter(version__in=versions).values_list("rationale", flat=True))
    return texts


def result_states(page):
    """The states the result page's grid gives each question, as a screen reader reads them, in order."""
    return re.findall(r'aria-label="Question \d+: ([^"]+)">\d+</a></li>', page)


def review_links(page):
    """The result page's links to the answers page, by filter, with the count each shows."""
    return dict(re.findall(r'/answers/\?show=(\w+)">[^<]*<span class="count">(\d+)</span>', page))


class TestTimedWalkthrough:
    def test_start_answer_flag_reload_review_submit_and_read_the_result(self, learner_client, timed_blueprint):
        attempt = start(learner_client, timed_blueprint)
        page = learner_client.get(q_url(attempt, 1))
        assert page.status_code == 200
        assert "Question <strong>1</strong> of 6" in page.content.decode()
        slot1 = attempt.slots.prefetch_related("question_version__choices").get(position=1)
        assert displayed_choice_ids(page) == slot1.choice_order

        # Answer question 1 correctly through HTMX, question 2 wrongly without JavaScript.
        right = [c.id for c in slot1.question_version.choices.all() if c.is_correct]
        saved = learner_client.post(q_url(attempt, 1, "answer"), {"choice": right}, HTTP_HX_REQUEST="true")
        assert saved.status_code == 200 and "Answer saved" in saved.content.decode()
        # Only the cell that changed comes back, swapped out of band: answered and current, and no other cell.
        assert '<li id="palette-1" hx-swap-oob="true">' in saved.content.decode()
        assert "is-answered is-current" in saved.content.decode() and 'id="palette-2"' not in saved.content.decode()
        slot2 = attempt.slots.prefetch_related("question_version__choices").get(position=2)
        wrong = [c.id for c in slot2.question_version.choices.all() if not c.is_correct][0]
        plain = learner_client.post(q_url(attempt, 2, "answer"), {"choice": wrong, "go": "next"})
        assert plain.status_code == 302 and plain.url == q_url(attempt, 3)
        learner_client.get(plain.url)  # the browser follows the redirect

        # Flag question 3, then "reload" on another device: the attempt resumes at question 3 with both answers.
        learner_client.post(q_url(attempt, 3, "flag"), {"flagged": "1"})
        device_b = Client()
        device_b.force_login(attempt.user)
        resumed = device_b.get(reverse("exams:attempt", args=[attempt.pk]))
        assert resumed.url == q_url(attempt, 3)
        assert sorted(checked_choice_ids(device_b.get(q_url(attempt, 1)))) == sorted(right)
        assert checked_choice_ids(device_b.get(q_url(attempt, 2))) == [wrong]

        review = learner_client.get(reverse("exams:review", args=[attempt.pk])).content.decode()
        assert "<strong>2</strong> of 6 answered" in review
        assert review.count('aria-label="Question 3"') == 2  # listed as unanswered and as flagged

        done = learner_client.post(reverse("exams:submit", args=[attempt.pk]))
        assert done.url == reverse("exams:result", args=[attempt.pk])
        result = learner_client.get(done.url).content.decode()
        assert "1 of 6 correct" in result
        assert "Score by domain" in result and "Needs improvement" in result
        # The result is the score report: each question's state in a grid, the answers a click away.
        answers_url = reverse("exams:answers", args=[attempt.pk])
        assert result_states(result) == ["Correct", "Incorrect", "Not answered, Flagged", *["Not answered"] * 3]
        assert f'href="{answers_url}?show=all#q3"' in result
        assert review_links(result) == {"all": "6", "incorrect": "5", "flagged": "1"}
        assert attempt.user.attempts.finished().count() == 1
        history = learner_client.get(reverse("history")).content.decode()
        assert reverse("exams:result", args=[attempt.pk]) in history

        # The answers page is the review: every question with every explanation and rationale.
        answers = learner_client.get(answers_url).content.decode()
        assert answers.count('class="review-item card"') == 6
        for text in answer_key_texts(attempt):
            assert text in answers
        assert reverse("exams:result", args=[attempt.pk]) in answers  # and the way back to the result
        # It can be narrowed to what went wrong or what was flagged.
        incorrect = learner_client.get(answers_url, {"show": "incorrect"}).content.decode()
        assert incorrect.count('class="review-item card"') == 5 and 'id="q1"' not in incorrect
        flagged = learner_client.get(answers_url, {"show": "flagged"}).content.decode()
        assert flagged.count('class="review-item card"') == 1 and 'id="q3"' in flagged

    def test_no_answer_key_in_any_response_of_an_attempt_in_progress(self, learner_client, timed_blueprint):
        attempt = start(learner_client, timed_blueprint)
        slot = attempt.slots.get(position=1)
        responses = [learner_client.get(q_url(attempt, p)) for p in range(1, attempt.question_count + 1)] + [
            learner_client.get(reverse("exams:review", args=[attempt.pk])),
            learner_client.post(q_url(attempt, 1, "answer"), {"choice": slot.choice_order[0]}, HTTP_HX_REQUEST="true"),
            learner_client.post(q_url(attempt, 1, "flag"), {"flagged": "1"}, HTTP_HX_REQUEST="true"),
            learner_client.post(q_url(attempt, 1, "check")),
        ]
        secrets = answer_key_texts(attempt)
        for response in responses:
            body = response.content.decode()
            assert not [s for s in secrets if s in body]
            assert "is-correct" not in body
        assert learner_client.get(reverse("exams:result", args=[attempt.pk])).status_code == 302

    def test_a_late_answer_is_refused_with_a_message_and_the_saved_ones_stay(self, learner_client, timed_blueprint):
        attempt = start(learner_client, timed_blueprint)
        slot = attempt.slots.get(position=1)
        learner_client.post(q_url(attempt, 1, "answer"), {"choice": slot.choice_order[0]})
        Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(minutes=2))
        late = learner_client.post(
            q_url(attempt, 1, "answer"), {"choice": slot.choice_order[1]}, HTTP_HX_REQUEST="true"
        )
        assert late.status_code == 409
        assert "Not saved" in late.content.decode() and "after the deadline" in late.content.decode()
        slot.refresh_from_db()
        assert slot.selected_choice_ids == [slot.choice_order[0]]
        attempt.refresh_from_db()
        assert attempt.state == AttemptState.FINISHED and attempt.correct_count is not None

    def test_a_late_flag_is_refused_finishes_the_attempt_and_sends_the_browser_to_the_result(
        self, learner_client, timed_blueprint
    ):
        attempt = start(learner_client, timed_blueprint)
        Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(minutes=2))
        response = learner_client.post(q_url(attempt, 1, "flag"), {"flagged": "1"}, HTTP_HX_REQUEST="true")
        assert response["HX-Redirect"] == reverse("exams:attempt", args=[attempt.pk])
        attempt.refresh_from_db()
        assert attempt.state == AttemptState.FINISHED and not attempt.slots.filter(flagged=True).exists()

    def test_saving_without_a_choice_says_the_question_is_still_unanswered(self, learner_client, timed_blueprint):
        attempt = start(learner_client, timed_blueprint)
        page = learner_client.post(q_url(attempt, 1, "answer"), {"go": "stay"}, follow=True).content.decode()
        assert "still unanswered" in page and "Answer saved." not in page

    def test_a_page_view_after_the_deadline_finishes_the_attempt(self, learner_client, timed_blueprint):
        attempt = start(learner_client, timed_blueprint)
        Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(minutes=5))
        response = learner_client.get(q_url(attempt, 1))
        assert response.url == reverse("exams:result", args=[attempt.pk])
        attempt.refresh_from_db()
        assert attempt.finish_reason == Attempt.FinishReason.TIME_UP

    def test_during_the_grace_period_the_question_page_leads_to_submit(self, learner_client, timed_blueprint):
        attempt = start(learner_client, timed_blueprint)
        Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=5))
        response = learner_client.get(q_url(attempt, 1))
        assert response.url == reverse("exams:review", args=[attempt.pk])
        assert "Time is up" in learner_client.get(response.url).content.decode()


class TestResultAndAnswers:
    """The result is the score report; the question-by-question review is the answers page, a click away."""

    @pytest.fixture
    def finished(self, learner, timed_blueprint):
        """Question 1 right, question 2 flagged and unanswered, time recorded on each (so the pace table shows)."""
        now = timezone.now()
        attempt = services.attempt_start(user=learner, blueprint=timed_blueprint, now=now)
        slot = attempt.slots.prefetch_related("question_version__choices").get(position=1)
        right = [c.id for c in slot.question_version.choices.all() if c.is_correct]
        services.attempt_save_answer(attempt_id=attempt.pk, position=1, choice_ids=right, now=now)
        services.attempt_set_flag(attempt_id=attempt.pk, position=2, flagged=True, now=now)
        for slot in attempt.slots.all():
            AttemptSlot.objects.filter(pk=slot.pk).update(seconds_spent=10 * slot.position)
        return services.attempt_finish(attempt_id=attempt.pk, now=now)

    def test_the_result_page_shows_each_questions_state_and_nothing_of_the_questions(self, learner_client, finished):
        page = learner_client.get(reverse("exams:result", args=[finished.pk])).content.decode()
        answers_url = reverse("exams:answers", args=[finished.pk])
        assert result_states(page) == ["Correct", "Not answered, Flagged", *["Not answered"] * 4]
        assert review_links(page) == {"all": "6", "incorrect": "5", "flagged": "1"}
        assert page.count(f'href="{answers_url}?show=all#q') == 6 + 5  # the grid, and the pace table's slowest five
        assert f'<a href="{answers_url}?show=all#q6">Question 6</a>' in page
        assert not [text for text in answer_key_texts(finished) if text in page]
        stems = QuestionVersion.objects.filter(slots__attempt=finished).values_list("stem", flat=True)
        assert not [stem for stem in stems if stem in page]
        assert "review-item" not in page and "Report a problem" not in page and 'id="q1"' not in page

    def test_the_answers_page_is_the_review_and_an_unknown_filter_shows_all(self, learner_client, finished):
        url = reverse("exams:answers", args=[finished.pk])
        page = learner_client.get(url, {"show": "nonsense"}).content.decode()
        assert "<title>Answers · Timed test · DevOps Pro Prep</title>" in page
        assert page.count('class="review-item card"') == 6
        assert '<a href="?show=all" aria-current="true">' in page
        assert f'href="{reverse("exams:result", args=[finished.pk])}"' in page
        assert page.count("Report a problem<") == 6
        flagged = learner_client.get(url, {"show": "flagged"}).content.decode()
        assert flagged.count('class="review-item card"') == 1 and 'id="q2"' in flagged
        incorrect = learner_client.get(url, {"show": "incorrect"}).content.decode()
        assert incorrect.count('class="review-item card"') == 5 and 'id="q1"' not in incorrect

    def test_an_open_attempt_has_no_answers_page_yet(self, learner, learner_client, timed_blueprint):
        attempt = services.attempt_start(user=learner, blueprint=timed_blueprint, now=timezone.now())
        response = learner_client.get(reverse("exams:answers", args=[attempt.pk]))
        assert response.status_code == 302 and response.url == attempt.get_absolute_url()

    def test_before_the_review_opens_no_question_state_shows_and_the_answers_page_redirects(
        self, learner_client, finished
    ):
        Attempt.objects.filter(pk=finished.pk).update(review_opens_at=timezone.now() + timedelta(days=1))
        result_url = reverse("exams:result", args=[finished.pk])
        page = learner_client.get(result_url).content.decode()
        assert "after the assignment closes" in page and "You answered 1 of 6 questions." in page
        assert "1 of 6 correct" in page  # the score itself is not hidden, only which questions were right
        assert result_states(page) == [] and "result-cell" not in page and "Incorrect" not in page
        assert "/answers/" not in page and "#q" not in page
        assert "Question 6" in page and ">Question 6</a>" not in page  # the pace table names it, without a link
        response = learner_client.get(reverse("exams:answers", args=[finished.pk]))
        assert response.status_code == 302 and response.url == result_url
        report = learner_client.get(reverse("exams:report", args=[finished.pk, 1]))
        assert report.status_code == 404

    def test_a_report_leads_back_to_its_question_on_the_answers_page(self, learner_client, finished):
        url = reverse("exams:report", args=[finished.pk, 3])
        back = f"{reverse('exams:answers', args=[finished.pk])}?show=all#q3"
        assert f'href="{back}"' in learner_client.get(url).content.decode()
        response = learner_client.post(url, {"kind": "unclear", "text": "Which region?"})
        assert response.status_code == 302 and response.url == back


class TestPracticeDrill:
    def test_explanation_shows_only_after_the_answer_is_checked(self, learner_client, practice_blueprint, bank):
        domain = bank.domains.get(number=2)
        attempt = start(learner_client, practice_blueprint, domain=domain.pk)
        assert attempt.chosen_domain == domain and attempt.deadline is None
        slot = attempt.slots.select_related("question_version").get(position=1)
        explanation = slot.question_version.explanation
        assert explanation not in learner_client.get(q_url(attempt, 1)).content.decode()
        learner_client.post(q_url(attempt, 1, "answer"), {"choice": slot.choice_order[0]})
        learner_client.post(q_url(attempt, 1, "check"))
        page = learner_client.get(q_url(attempt, 1)).content.decode()
        assert explanation in page
        assert explanation not in learner_client.get(q_url(attempt, 2)).content.decode()
        other = attempt.slots.select_related("question_version").get(position=2).question_version.explanation
        assert other not in page

    def test_a_drill_from_start_to_result(self, learner_client, practice_blueprint, bank):
        attempt = start(learner_client, practice_blueprint, domain=bank.domains.get(number=5).pk)
        for slot in attempt.slots.prefetch_related("question_version__choices").order_by("position"):
            right = [c.id for c in slot.question_version.choices.all() if c.is_correct]
            learner_client.post(q_url(attempt, slot.position, "answer"), {"choice": right})
            learner_client.post(q_url(attempt, slot.position, "check"))
            page = learner_client.get(q_url(attempt, slot.position)).content.decode()
            assert "Correct</h2>" in page and "disabled" in page  # feedback, and the options are locked
        learner_client.post(reverse("exams:submit", args=[attempt.pk]))
        result = learner_client.get(reverse("exams:result", args=[attempt.pk])).content.decode()
        assert "100%" in result and "Pass" in result and "Domain name 5" in result

    def test_a_drill_needs_a_domain(self, learner_client, practice_blueprint):
        url = reverse("exams:blueprint", args=[practice_blueprint.bank.slug, practice_blueprint.slug])
        response = learner_client.post(url, {})
        assert response.status_code == 200 and "This field is required" in response.content.decode()
        assert not Attempt.objects.exists()


class TestAccess:
    def test_another_users_attempt_is_404_for_read_and_write_and_nothing_changes(
        self, learner_client, timed_blueprint, other_learner
    ):
        attempt = start(learner_client, timed_blueprint)
        intruder = Client()
        intruder.force_login(other_learner)
        slot = attempt.slots.get(position=1)
        before = list(AttemptSlot.objects.filter(attempt=attempt).values())
        for url in [
            reverse("exams:attempt", args=[attempt.pk]),
            q_url(attempt, 1),
            reverse("exams:review", args=[attempt.pk]),
            reverse("exams:result", args=[attempt.pk]),
            reverse("exams:answers", args=[attempt.pk]),
        ]:
            assert intruder.get(url).status_code == 404
        for url, data in [
            (q_url(attempt, 1, "answer"), {"choice": slot.choice_order[0]}),
            (q_url(attempt, 1, "flag"), {"flagged": "1"}),
            (q_url(attempt, 1, "check"), {}),
            (reverse("exams:submit", args=[attempt.pk]), {}),
        ]:
            assert intruder.post(url, data).status_code == 404
        assert list(AttemptSlot.objects.filter(attempt=attempt).values()) == before
        attempt.refresh_from_db()
        assert attempt.state == AttemptState.IN_PROGRESS

    def test_anonymous_visitors_are_sent_to_log_in(self, timed_blueprint):
        response = Client().get(reverse("exams:catalogue"))
        assert response.status_code == 302 and reverse("accounts:login") in response.url

    def test_csrf_is_enforced_on_every_post_htmx_included(self, learner, timed_blueprint):
        client = Client(enforce_csrf_checks=True)
        client.force_login(learner)
        attempt = services.attempt_start(user=learner, blueprint=timed_blueprint, now=timezone.now())
        choice = attempt.slots.get(position=1).choice_order[0]
        for url, data in [
            (reverse("exams:blueprint", args=[timed_blueprint.bank.slug, timed_blueprint.slug]), {}),
            (q_url(attempt, 1, "answer"), {"choice": choice}),
            (q_url(attempt, 1, "flag"), {"flagged": "1"}),
            (reverse("exams:submit", args=[attempt.pk]), {}),
        ]:
            refused = client.post(url, data, HTTP_HX_REQUEST="true")
            assert refused.status_code == 403 and refused["HX-Refresh"] == "true"
        assert attempt.slots.get(position=1).selected_choice_ids == []
        # With the token in the header, as the page's hx-headers sends it, the save goes through.
        page = client.get(q_url(attempt, 1)).content.decode()
        token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        ok = client.post(
            q_url(attempt, 1, "answer"), {"choice": choice}, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token
        )
        assert ok.status_code == 200


class TestFrozenVersions:
    def test_editing_a_question_does_not_change_a_past_attempt(self, learner_client, timed_blueprint):
        attempt = start(learner_client, timed_blueprint)
        slot = attempt.slots.select_related("question_version__question").get(position=1)
        correct = [c.id for c in slot.question_version.choices.all() if c.is_correct]
        learner_client.post(q_url(attempt, 1, "answer"), {"choice": correct})
        learner_client.post(reverse("exams:submit", args=[attempt.pk]))
        old_stem = slot.question_version.stem
        question = slot.question_version.question
        make_version(domain=slot.question_version.domain, question=question, number=2)  # the bank moves on
        answers = learner_client.get(reverse("exams:answers", args=[attempt.pk])).content.decode()
        assert old_stem in answers and old_stem.replace("-v1:", "-v2:") not in answers
        attempt.refresh_from_db()
        assert attempt.correct_count == 1


class TestQueryCounts:
    """The exam pages must not grow with the number of questions (an n+1 would make a 75-question mock slow)."""

    @pytest.fixture
    def big_attempt(self, learner):
        bank = bank_with_questions(per_domain=14, slug="big")
        blueprint = BlueprintFactory(bank=bank, question_count=75, duration_minutes=180)
        attempt = services.attempt_start(user=learner, blueprint=blueprint, now=timezone.now(), rng=random.Random(2))
        for slot in attempt.slots.all()[:40]:
            services.attempt_save_answer(
                attempt_id=attempt.pk, position=slot.position, choice_ids=slot.choice_order[:1], now=timezone.now()
            )
        return attempt

    def test_question_page(self, learner_client, big_attempt, django_assert_num_queries):
        """Session, user, attempt with its exam's title, the position update (and the time on the question left),
        the slot with its version, its choices, the palette: fixed, not per question."""
        with django_assert_num_queries(7):  # the first question shown: no question left yet
            assert learner_client.get(q_url(big_attempt, 30)).status_code == 200
        with django_assert_num_queries(8):
            page = learner_client.get(q_url(big_attempt, 31)).content.decode()
        assert big_attempt.blueprint.title in page and "Question <strong>31</strong>" in page

    def test_autosave_and_flag(self, learner_client, big_attempt, django_assert_num_queries):
        """Session, user, then one read that locks the attempt and loads the slot with it (and proves the owner),
        and the conditional update, inside a savepoint; the palette cell is the saved slot: fixed, not per
        question."""
        choice = big_attempt.slots.get(position=50).choice_order[0]
        with django_assert_num_queries(6):
            response = learner_client.post(q_url(big_attempt, 50, "answer"), {"choice": choice}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and "Answer saved" in response.content.decode()
        with django_assert_num_queries(6):
            response = learner_client.post(q_url(big_attempt, 50, "flag"), {"flagged": "1"}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and big_attempt.slots.get(position=50).flagged

    def test_submit(self, learner_client, big_attempt, django_assert_max_num_queries):
        """Grading reads all correct choices in one query and writes the slots in at most four UPDATEs (one per
        outcome: right or wrong, first exposure or not): 11 queries besides them."""
        with django_assert_max_num_queries(15):
            learner_client.post(reverse("exams:submit", args=[big_attempt.pk]))
        big_attempt.refresh_from_db()
        assert big_attempt.state == AttemptState.FINISHED and big_attempt.question_count == 75

    def test_result_page(self, learner_client, big_attempt, django_assert_num_queries):
        """Session, user, attempt, the grid's four slot columns, the domain aggregate, the pace: never a version,
        choice or note. Every learner of a group sitting opens this page within seconds of submitting."""
        services.attempt_finish(attempt_id=big_attempt.pk, now=timezone.now())
        url = reverse("exams:result", args=[big_attempt.pk])
        learner_client.get(url)  # the first request after logging in renews the session: a write not counted here
        with django_assert_num_queries(6) as captured:
            page = learner_client.get(url)
        assert page.status_code == 200 and len(result_states(page.content.decode())) == 75
        tables = " ".join(query["sql"] for query in captured.captured_queries)
        assert "bank_choice" not in tables and "bank_note" not in tables and '"explanation"' not in tables

    def test_answers_page(self, learner_client, big_attempt, django_assert_num_queries):
        """Session, user, attempt, then the slots with versions, domains and topics, their choices, their notes:
        a fixed number for 75 questions (prefetched, not one query per question)."""
        services.attempt_finish(attempt_id=big_attempt.pk, now=timezone.now())
        url = reverse("exams:answers", args=[big_attempt.pk])
        learner_client.get(url)  # the first request after logging in renews the session: a write not counted here
        with django_assert_num_queries(6):
            page = learner_client.get(url)
        assert page.content.decode().count('class="review-item card"') == 75

    def test_catalogue_and_history(self, learner_client, big_attempt, django_assert_max_num_queries):
        services.attempt_finish(attempt_id=big_attempt.pk, now=timezone.now())
        with django_assert_max_num_queries(8):
            learner_client.get(reverse("history"))
        with django_assert_max_num_queries(19):  # the dashboard: see tests/progress/test_dashboard.py
            learner_client.get(reverse("home"))


def test_catalogue_lists_the_exams(learner_client, timed_blueprint, practice_blueprint):
    page = learner_client.get(reverse("exams:catalogue")).content.decode()
    assert timed_blueprint.title in page and practice_blueprint.title in page


def test_an_unknown_attempt_shows_the_friendly_404_page(learner_client):
    response = learner_client.get("/attempts/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert "isn't yours to see" in response.content.decode()


def test_the_review_and_a_checked_drill_answer_link_the_documentation_the_key_rests_on(
    learner_client, timed_blueprint, practice_blueprint
):
    url = "https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html"
    QuestionVersion.objects.update(references=[url])
    attempt = start(learner_client, timed_blueprint)
    page = learner_client.get(q_url(attempt, 1)).content.decode()
    assert url not in page  # nothing of the key's backing shows while the exam runs
    learner_client.post(reverse("exams:submit", args=[attempt.pk]))
    assert url not in learner_client.get(reverse("exams:result", args=[attempt.pk])).content.decode()
    answers = learner_client.get(reverse("exams:answers", args=[attempt.pk])).content.decode()
    assert answers.count(f'href="{url}"') == attempt.question_count
    assert "Reference appspec file structure hooks" in answers and "Read more in the AWS documentation" in answers

    drill = start(learner_client, practice_blueprint, domain=practice_blueprint.bank.domains.first().pk)
    slot = drill.slots.get(position=1)
    learner_client.post(q_url(drill, 1, "answer"), {"choice": slot.choice_order[0]})
    assert url not in learner_client.get(q_url(drill, 1)).content.decode()
    learner_client.post(q_url(drill, 1, "check"))
    assert f'href="{url}"' in learner_client.get(q_url(drill, 1)).content.decode()


def test_nobody_saves_or_flags_in_another_learners_attempt_or_past_its_last_question(learner, timed_blueprint):
    attempt = services.attempt_start(user=learner, blueprint=timed_blueprint, now=timezone.now())
    choice = attempt.slots.get(position=1).choice_order[0]
    intruder = Client()
    intruder.force_login(UserFactory(username="intruder"))
    hx = {"HTTP_HX_REQUEST": "true"}
    assert intruder.post(q_url(attempt, 1, "answer"), {"choice": choice}, **hx).status_code == 404
    assert intruder.post(q_url(attempt, 1, "flag"), {"flagged": "1"}, **hx).status_code == 404
    slot = attempt.slots.get(position=1)
    assert slot.selected_choice_ids == [] and not slot.flagged
    owner = Client()
    owner.force_login(learner)
    beyond = attempt.question_count + 1
    assert owner.post(q_url(attempt, beyond, "answer"), {"choice": choice}, **hx).status_code == 404
    assert owner.post(q_url(attempt, 99999999999, "flag"), {"flagged": "1"}, **hx).status_code == 404
