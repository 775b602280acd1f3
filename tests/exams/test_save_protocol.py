"""The save protocol (issue 6): the server orders saves, a stale or malformed one changes nothing and says so."""

import re
import threading
from datetime import timedelta

import pytest
from django.core import signing
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from quizapp.exams import save_protocol, services
from quizapp.exams.models import Attempt

pytestmark = pytest.mark.django_db


@pytest.fixture
def attempt(learner, timed_blueprint):
    return services.attempt_start(user=learner, blueprint=timed_blueprint, now=timezone.now())


def answer_url(attempt, position=1):
    return reverse("exams:answer", args=[attempt.pk, position])


def page_token(client, attempt, position=1):
    """The save token of the question page, as the browser would read it from the form."""
    page = client.get(reverse("exams:question", args=[attempt.pk, position])).content.decode()
    return re.search(r'name="page" value="([^"]+)"', page).group(1)


def shown_seconds_ago(attempt, seconds, position=1):
    """The token of a question page the server rendered `seconds` ago."""
    return save_protocol.page_token(
        attempt_id=attempt.pk, position=position, now=timezone.now() - timedelta(seconds=seconds)
    )


def stored(attempt, position=1):
    return attempt.slots.get(position=position).selected_choice_ids


class TestOrdering:
    def test_a_click_measured_from_a_new_page_beats_an_older_one_however_long_the_old_tab_was_open(
        self, learner_client, attempt
    ):
        order = attempt.slots.get(position=1).choice_order
        old_page = page_token(learner_client, attempt)
        # The old page's click came 50 ms after it was shown; a fresh page's click came later in real time.
        learner_client.post(answer_url(attempt), {"choice": order[0], "page": old_page, "elapsed": "50"})
        new_page = page_token(learner_client, attempt)
        response = learner_client.post(
            answer_url(attempt), {"choice": order[1], "page": new_page, "elapsed": "10"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200 and "Answer saved" in response.content.decode()
        assert stored(attempt) == [order[1]]

    def test_a_stale_save_arriving_late_is_refused_with_409_and_not_called_saved(self, learner_client, attempt):
        order = attempt.slots.get(position=1).choice_order
        token = shown_seconds_ago(attempt, 10)
        # The click 3 s after the page was shown arrives after the click 8 s after it.
        learner_client.post(answer_url(attempt), {"choice": order[1], "page": token, "elapsed": "8000"})
        late = learner_client.post(
            answer_url(attempt), {"choice": order[0], "page": token, "elapsed": "3000"}, HTTP_HX_REQUEST="true"
        )
        body = late.content.decode()
        assert late.status_code == 409 and "Not saved" in body and "Answer saved" not in body
        assert stored(attempt) == [order[1]]

    def test_a_stale_save_without_javascript_shows_the_question_with_the_stored_answer(self, learner_client, attempt):
        order = attempt.slots.get(position=1).choice_order
        token = shown_seconds_ago(attempt, 10)
        learner_client.post(answer_url(attempt), {"choice": order[1], "page": token, "elapsed": "8000"}, follow=True)
        response = learner_client.post(answer_url(attempt), {"choice": order[0], "page": token, "elapsed": "3000"})
        body = response.content.decode()
        assert response.status_code == 409 and "Not saved" in body and "Answer saved" not in body
        assert re.search(rf'value="{order[1]}"\s+checked', body)

    def test_a_far_future_elapsed_counts_as_now_and_does_not_block_later_saves(self, learner_client, attempt):
        order = attempt.slots.get(position=1).choice_order
        token = page_token(learner_client, attempt)
        first = learner_client.post(answer_url(attempt), {"choice": order[0], "page": token, "elapsed": "999999999999"})
        assert first.status_code == 302
        assert attempt.slots.get(position=1).answer_given_at <= timezone.now()
        second = learner_client.post(
            answer_url(attempt), {"choice": order[1], "page": page_token(learner_client, attempt)}
        )
        assert second.status_code == 302 and stored(attempt) == [order[1]]

    def test_without_a_token_the_answer_was_given_when_it_arrived(self, learner_client, attempt):
        order = attempt.slots.get(position=1).choice_order
        learner_client.post(answer_url(attempt), {"choice": order[0]})
        learner_client.post(answer_url(attempt), {"choice": order[2]})
        assert stored(attempt) == [order[2]]


class TestMalformedSaves:
    @pytest.mark.parametrize("elapsed", ["²", "-5", "1e9", "12.5", "9" * 13, str(2**63), "0x10", " 5"])
    def test_malformed_or_out_of_range_elapsed_is_a_400_with_a_message(self, learner_client, attempt, elapsed):
        order = attempt.slots.get(position=1).choice_order
        token = page_token(learner_client, attempt)
        response = learner_client.post(
            answer_url(attempt), {"choice": order[0], "page": token, "elapsed": elapsed}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 400 and "malformed time" in response.content.decode()
        assert stored(attempt) == []

    def test_a_tampered_token_or_another_questions_token_is_a_400(self, learner_client, attempt):
        order = attempt.slots.get(position=1).choice_order
        token = page_token(learner_client, attempt)
        other_question = page_token(learner_client, attempt, position=2)
        forged = signing.dumps({"a": str(attempt.pk), "p": 1, "t": 2**62}, salt="not-the-salt")
        for bad in [token[:-3] + "abc", other_question, forged, "x" * 5000]:
            response = learner_client.post(answer_url(attempt), {"choice": order[0], "page": bad, "elapsed": "1"})
            assert response.status_code == 400, bad
            assert "Not saved" in response.content.decode()
        assert stored(attempt) == []

    def test_an_expired_page_token_is_refused(self, learner_client, attempt):
        long_ago = timezone.now() - save_protocol.MAX_PAGE_AGE - timedelta(hours=1)
        token = save_protocol.page_token(attempt_id=attempt.pk, position=1, now=long_ago)
        choice = attempt.slots.get(position=1).choice_order[0]
        response = learner_client.post(answer_url(attempt), {"choice": choice, "page": token, "elapsed": "1"})
        assert response.status_code == 400 and "out of date" in response.content.decode()
        with pytest.raises(save_protocol.BadSaveRequest):
            save_protocol.given_at(token=token, elapsed_ms="1", attempt_id=attempt.pk, position=1, now=timezone.now())


class TestOneOpenAttempt:
    def test_the_database_refuses_a_second_open_attempt_and_a_racing_start_resumes_the_winner(
        self, learner, timed_blueprint, monkeypatch
    ):
        now = timezone.now()
        winner = services.attempt_start(user=learner, blueprint=timed_blueprint, now=now)
        # Simulate the race: the loser's check for an open attempt ran before the winner committed.
        real_open = Attempt.objects.open
        calls = []

        def open_as_seen_before_the_winner_committed():
            calls.append(1)
            queryset = real_open()
            return queryset.none() if len(calls) == 1 else queryset

        monkeypatch.setattr(Attempt.objects, "open", open_as_seen_before_the_winner_committed)
        loser = services.attempt_start(user=learner, blueprint=timed_blueprint, now=now)
        assert loser.pk == winner.pk
        assert Attempt.objects.filter(user=learner).count() == 1

    def test_a_finished_attempt_does_not_block_a_new_one(self, learner, timed_blueprint):
        now = timezone.now()
        first = services.attempt_start(user=learner, blueprint=timed_blueprint, now=now)
        services.attempt_finish(attempt_id=first.pk, now=now)
        second = services.attempt_start(user=learner, blueprint=timed_blueprint, now=now)
        assert second.pk != first.pk and second.is_open


def test_submit_ignores_a_client_claim_that_time_ran_out(learner_client, attempt):
    learner_client.post(reverse("exams:submit", args=[attempt.pk]), {"time_up": "1"})
    attempt.refresh_from_db()
    assert attempt.finish_reason == Attempt.FinishReason.SUBMITTED


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("domain_chosen", [False, True])
def test_twenty_concurrent_starts_give_one_open_attempt(learner, timed_blueprint, practice_blueprint, domain_chosen):
    """Two tabs, a retry, a double submit without JavaScript: twenty starts at once give one open attempt.

    On PostgreSQL the starts really run in parallel and the conditional unique index decides; on SQLite the
    IMMEDIATE transactions queue them. Every caller gets the same attempt, and nobody gets an error.
    """
    blueprint = practice_blueprint if domain_chosen else timed_blueprint
    domain = blueprint.bank.domains.first() if domain_chosen else None
    barrier = threading.Barrier(20)
    started, errors = [], []

    def start():
        try:
            barrier.wait()
            started.append(services.attempt_start(user=learner, blueprint=blueprint, domain=domain, now=timezone.now()))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({attempt.pk for attempt in started}) == 1
    assert Attempt.objects.filter(user=learner, blueprint=blueprint).count() == 1
