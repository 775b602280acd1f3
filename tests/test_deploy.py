"""Production configuration: the deploy checklist passes and every response carries a strict CSP."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.test import Client

ROOT = Path(__file__).resolve().parents[1]


def test_check_deploy_is_clean_under_production_settings():
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="x" * 64 + "-a-long-random-production-secret",
        ALLOWED_HOSTS="exams.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY="")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_pages_carry_a_csp_without_unsafe_inline_or_eval():
    response = Client().get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    body = response.content.decode()
    assert "<style" not in body and " onclick=" not in body and "hx-on" not in body
    assert "https://" not in body.split("<footer")[0]  # no CDN: every asset is served by the app


def test_docker_compose_runs_the_app_postgres_and_the_overdue_closer():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "web", "closer"} <= set(services)
    assert "gunicorn" in " ".join(map(str, services["web"]["command"]))
    assert "close_overdue_attempts" in " ".join(map(str, services["closer"]["command"]))
    assert services["db"]["image"].startswith("postgres:")


@pytest.mark.django_db
def test_the_health_check_answers_plain_http_by_address(settings):
    """A load balancer or a container checks each app server over plain HTTP, by its address: production's HTTPS
    redirect and its allowed hosts must not turn the check into a 301 or a 400."""
    settings.SECURE_SSL_REDIRECT = True  # as in production
    settings.ALLOWED_HOSTS = ["exams.example.com"]
    client = Client(HTTP_HOST="10.0.0.7:8000")
    response = client.get("/healthz/")
    assert response.status_code == 200 and response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"
    assert client.post("/healthz/").status_code == 405
    assert client.get("/accounts/login/").status_code == 400  # any other page: an unknown host is refused
    assert Client(HTTP_HOST="exams.example.com").get("/accounts/login/").status_code == 301  # and goes to HTTPS
