"""More than one app server (docs/scaling.md): the settings a deployment grows with, and a shared cache that is
away costing a render, never the page."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.test import Client, override_settings
from django.utils import timezone

from tests.factories import BlueprintFactory
from tests.progress.helpers import take

ROOT = Path(__file__).resolve().parents[1]
# Nothing listens on port 1: every cache call fails fast, as with a Redis server that went away.
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


def settings_under(**environment):
    """The database and cache settings as a fresh process reads them from its environment."""
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "db = settings.DATABASES['default']; "
        "print(json.dumps({'cache': settings.CACHES['default'], 'cursors': db.get('DISABLE_SERVER_SIDE_CURSORS'), "
        "'options': db.get('OPTIONS', {})}))"
    )
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_POOLER_TRANSACTION")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.dev", **environment)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_redis_url_makes_one_cache_for_every_process():
    shared = settings_under(REDIS_URL="redis://cache:6379/0")["cache"]
    assert shared["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert shared["LOCATION"] == "redis://cache:6379/0"
    assert settings_under()["cache"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_behind_pgbouncer_in_transaction_mode_nothing_outlives_a_transaction():
    pooled = settings_under(
        DATABASE_URL="postgres://quizapp@pgbouncer:6432/quizapp", DATABASE_POOLER_TRANSACTION="true"
    )
    assert pooled["cursors"] is True and pooled["options"]["prepare_threshold"] is None
    direct = settings_under(DATABASE_URL="postgres://quizapp@db:5432/quizapp")
    assert not direct["cursors"] and "prepare_threshold" not in direct["options"]


def test_compose_runs_replicas_behind_the_proxy_with_a_shared_cache():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["web"]["deploy"]["replicas"]
    assert "/healthz/" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["web"]["environment"]["REDIS_URL"] == "redis://cache:6379/0"
    assert services["cache"]["image"].startswith("redis:")
    assert services["closer"]["environment"]["REDIS_URL"] == "redis://cache:6379/0"


@pytest.mark.django_db
@override_settings(CACHES=UNREACHABLE_REDIS)
def test_with_the_shared_cache_away_the_dashboard_and_sign_up_still_work(learner, learner_client, bank):
    mock = BlueprintFactory(bank=bank, slug="mock", title="Mock", question_count=12, duration_minutes=30)
    take(learner, mock, now=timezone.now() - timedelta(days=1), right=lambda slot: True)
    response = learner_client.get("/")
    assert response.status_code == 200 and "Score per timed exam" in response.content.decode()
    # The sign-up rate limit cannot count: the form is served (and its errors shown), not a 500 or a 429.
    response = Client().post("/accounts/signup/", {"username": "someone"})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
