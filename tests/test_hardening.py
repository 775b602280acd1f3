"""Issue 6, part 4: what a client can send never gives a 500, each view allows only its methods, and the
deployment settings hold what they promise (headers, secrets, body sizes, the proxy's client address)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from quizapp.exams import services
from tests.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.django_db


@pytest.fixture
def attempt(learner, timed_blueprint):
    return services.attempt_start(user=learner, blueprint=timed_blueprint, now=timezone.now())


def test_a_malformed_hx_current_url_on_an_anonymous_htmx_request_still_goes_to_login(timed_blueprint):
    response = Client(raise_request_exception=False).get(
        "/exams/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="https://[::1"
    )
    assert response.status_code == 200 and response["HX-Redirect"].startswith("/accounts/login/?next=/")


@pytest.mark.parametrize("url", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_a_body_in_a_charset_that_cannot_be_read_gets_the_apps_own_400_page(url):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.get("/accounts/login/")  # a real browser's CSRF cookie, sent back as the header
    response = client.generic(
        "POST",
        url,
        "username=a&password=b".encode("utf-16"),
        content_type="application/x-www-form-urlencoded; charset=utf-16",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 400
    assert "That request could not be read" in response.content.decode()


def test_each_view_answers_only_its_methods(learner_client, attempt):
    pages = [
        "/",
        "/history/",
        "/exams/",
        reverse("exams:attempt", args=[attempt.pk]),
        reverse("exams:question", args=[attempt.pk, 3]),
        reverse("exams:review", args=[attempt.pk]),
        reverse("exams:result", args=[attempt.pk]),
        reverse("exams:answers", args=[attempt.pk]),
        "/accounts/password/change/",
        "/accounts/password/change/done/",
        "/accounts/password/reset/",
        "/accounts/password/reset/sent/",
        "/accounts/password/reset/complete/",
    ]
    for url in pages:
        for method in ["PUT", "DELETE", "PATCH", "TRACE"]:
            response = learner_client.generic(method, url)
            assert response.status_code == 405, (method, url, response.status_code)
    for url in ["/accounts/login/", "/accounts/signup/"]:
        for method in ["PUT", "DELETE", "PATCH", "TRACE"]:
            assert Client().generic(method, url).status_code == 405, (method, url)
    attempt.refresh_from_db()
    assert attempt.current_position == 1  # PUT on question 3 moved nothing
    posts = [reverse(f"exams:{name}", args=[attempt.pk, 1]) for name in ("answer", "flag", "check")]
    for url in [*posts, reverse("exams:submit", args=[attempt.pk]), "/accounts/logout/"]:
        assert learner_client.get(url).status_code == 405, url


def test_pages_that_show_answers_are_never_cached(learner_client, attempt):
    for url in [reverse("exams:question", args=[attempt.pk, 1]), reverse("exams:review", args=[attempt.pk])]:
        cache_control = learner_client.get(url)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, url
    services.attempt_finish(attempt_id=attempt.pk, now=timezone.now())
    for name in ("exams:result", "exams:answers"):
        response = learner_client.get(reverse(name, args=[attempt.pk]))
        assert response.status_code == 200, name
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"], name


def test_a_request_body_over_the_limit_is_refused_before_it_is_read(learner_client, attempt):
    choice = attempt.slots.get(position=1).choice_order[0]
    big = b"x" * (settings.MAX_REQUEST_BYTES + 1)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = learner_client.post(
        reverse("exams:answer", args=[attempt.pk, 1]),
        {"choice": choice, "file": SimpleUploadedFile("big.bin", big)},
    )
    assert response.status_code == 413 and "too large" in response.content.decode()
    assert attempt.slots.get(position=1).selected_choice_ids == []


def test_password_change_says_other_devices_are_signed_out_and_they_are(learner):
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        client.post("/accounts/login/", {"username": learner.username, "password": PASSWORD})
    form = here.get("/accounts/password/change/").content.decode()
    assert "other browsers and devices where you are signed in will be signed out" in form
    done = here.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": "a-new-secret-778", "new_password2": "a-new-secret-778"},
        follow=True,
    ).content.decode()
    assert "has been signed out" in done and "keep their session" not in done
    assert here.get("/history/").status_code == 200
    assert elsewhere.get("/history/").status_code == 302  # really signed out


@pytest.mark.parametrize(
    "secret",
    ["", "dev-insecure-key", "change-me-to-a-long-random-string", "short-but-random-Zq8", "change-me" * 10],
)
def test_production_refuses_to_start_with_a_placeholder_or_weak_secret_key(secret):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY=secret)
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_kept_database_connections_are_health_checked():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def login(client, username, password, forwarded_for):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR="10.0.0.2",  # the proxy's address: the same for everyone
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_a_lockout_keys_on_the_client_the_proxy_saw_not_on_the_proxy():
    victim = UserFactory()
    attacker = Client()
    for _ in range(5):
        login(attacker, victim.username, "wrong", "203.0.113.9")
    assert login(attacker, victim.username, PASSWORD, "203.0.113.9").status_code == 429
    # A forged left-hand entry does not help the attacker: the proxy's own (rightmost) entry counts.
    assert login(attacker, victim.username, PASSWORD, "198.51.100.7, 203.0.113.9").status_code == 429
    # The real learner, from their own address through the same proxy, still logs in.
    assert login(Client(), victim.username, PASSWORD, "192.0.2.44").status_code == 302


def test_sign_up_and_password_reset_are_throttled_per_client_address():
    client = Client()
    limit = settings.SIGNUP_RATE_LIMIT["limit"]
    for number in range(limit):
        response = client.post("/accounts/signup/", {"username": f"new{number}"})  # invalid: re-renders
        assert response.status_code == 200
    refused = client.post("/accounts/signup/", {"username": "one-too-many"})
    assert refused.status_code == 429 and "Too many sign-ups" in refused.content.decode()
    for _ in range(settings.PASSWORD_RESET_RATE_LIMIT["limit"]):
        assert client.post("/accounts/password/reset/", {"email": "a@example.com"}).status_code == 302
    refused = client.post("/accounts/password/reset/", {"email": "a@example.com"})
    assert refused.status_code == 429 and "Too many reset requests" in refused.content.decode()


def test_compose_publishes_only_the_proxy_and_the_app_trusts_exactly_that_one_hop():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    published = {name for name, service in compose["services"].items() if service.get("ports")}
    assert published == {"proxy"}
    assert compose["services"]["web"]["environment"]["TRUSTED_PROXY_COUNT"] == "1"
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx  # overwritten, never appended
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in nginx


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/groups/invite/%00/", "/?bank=%00", "/history/?exam=%00", "/groups/1/assignments/1/debrief/?n=%00"]
)
def test_a_nul_byte_anywhere_in_the_url_is_a_400_never_a_500(learner_client, path):
    response = learner_client.get(path)
    assert response.status_code == 400


@pytest.mark.django_db
def test_a_nul_byte_in_a_form_post_is_a_400(learner_client):
    response = learner_client.post("/groups/join/", "code=AB%00CD", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
