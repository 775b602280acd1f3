"""Backups that restore (issue 12): a database with attempts, answers and scores is dumped, restored into an empty
database, and every attempt, answer and score is found there. Each database runs its own branch: SQLite through
Python's sqlite3 backup API (what `.backup` does), PostgreSQL through the pg_dump and pg_restore binaries, as
docs/backups.md tells an operator to.
"""

import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.db import connection
from django.utils import timezone

from quizapp.exams import services
from quizapp.exams.models import Attempt, AttemptSlot
from tests.factories import UserFactory

# pg_dump and pg_restore write to the database from other processes: the rows must really be committed.
pytestmark = pytest.mark.django_db(transaction=True)

ATTEMPT_COLUMNS = "id, user_id, state, correct_count, question_count, finished_at IS NOT NULL"
SLOT_COLUMNS = "attempt_id, position, question_version_id, selected_choice_ids, is_correct"


def make_attempts(blueprint):
    """Three learners with finished, graded attempts (right, wrong, mixed) and one attempt still in progress."""
    now = timezone.now()
    for n, pattern in enumerate(["right", "wrong", "mixed", "open"]):
        attempt = services.attempt_start(user=UserFactory(username=f"backup-{n}"), blueprint=blueprint, now=now)
        slots = attempt.slots.select_related("question_version").prefetch_related("question_version__choices")
        for slot in slots:
            choices = list(slot.question_version.choices.all())
            right = pattern == "right" or (pattern in ("mixed", "open") and slot.position % 2)
            pick = (
                [c.pk for c in choices if c.is_correct] if right else [next(c.pk for c in choices if not c.is_correct)]
            )
            services.attempt_save_answer(attempt_id=attempt.pk, position=slot.position, choice_ids=pick, now=now)
        if pattern != "open":
            services.attempt_finish(attempt_id=attempt.pk, now=now)


def normalised(attempts, slots):
    """Rows as plain values, whichever database and driver they came from (UUID text or uuid, JSON text or list)."""
    return (
        {(uuid.UUID(str(a[0])), a[1], a[2], a[3], a[4], bool(a[5])) for a in attempts},
        {
            (uuid.UUID(str(s[0])), s[1], s[2], tuple(json.loads(s[3]) if isinstance(s[3], str) else s[3]), s[4])
            for s in slots
        },
    )


def rows_here():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {ATTEMPT_COLUMNS} FROM {Attempt._meta.db_table}")  # noqa: S608 - our own names
        attempts = cursor.fetchall()
        cursor.execute(f"SELECT {SLOT_COLUMNS} FROM {AttemptSlot._meta.db_table}")  # noqa: S608
        slots = cursor.fetchall()
    return normalised(attempts, slots)


def rows_in(cursor):
    cursor.execute(f"SELECT {ATTEMPT_COLUMNS} FROM {Attempt._meta.db_table}")  # noqa: S608
    attempts = cursor.fetchall()
    cursor.execute(f"SELECT {SLOT_COLUMNS} FROM {AttemptSlot._meta.db_table}")  # noqa: S608
    return normalised(attempts, cursor.fetchall())


def sqlite_backup_and_restore(tmp_path: Path):
    """Back the live file up with the sqlite3 backup API, then restore that backup into an empty database."""
    live = sqlite3.connect(connection.settings_dict["NAME"])
    backup_file, restored_file = tmp_path / "quizapp.backup.sqlite3", tmp_path / "restored.sqlite3"
    with sqlite3.connect(backup_file) as backup:
        live.backup(backup)  # consistent even while others write (WAL), like the CLI's `.backup`
    live.close()
    assert sqlite3.connect(backup_file).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    restored = sqlite3.connect(restored_file)
    assert restored.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)  # empty to start with
    with sqlite3.connect(backup_file) as backup:
        backup.backup(restored)
    try:
        return rows_in(restored.cursor())
    finally:
        restored.close()


def postgres_dump_and_restore(tmp_path: Path):
    """pg_dump -Fc the test database, create an empty one, pg_restore into it, read it, drop it."""
    import psycopg

    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or os.environ.get("PGPASSWORD", "")}
    where = ["-h", db.get("HOST") or "localhost", "-p", str(db.get("PORT") or 5432), "-U", db["USER"]]
    dump = tmp_path / "quizapp.dump"
    subprocess.run(  # noqa: S603 - fixed binaries, our own arguments
        [shutil.which("pg_dump"), *where, "-Fc", "--no-owner", "-f", str(dump), db["NAME"]], check=True, env=env
    )
    fresh = f"{db['NAME']}_restore_{secrets.token_hex(4)}"
    server = {
        "host": db.get("HOST") or "localhost",
        "port": db.get("PORT") or 5432,
        "user": db["USER"],
        "password": db.get("PASSWORD") or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{fresh}"')
    try:
        subprocess.run(  # noqa: S603
            [shutil.which("pg_restore"), *where, "--no-owner", "--exit-on-error", "-d", fresh, str(dump)],
            check=True,
            env=env,
        )
        with psycopg.connect(dbname=fresh, **server) as restored:
            return rows_in(restored.cursor())
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')


def test_a_backup_restores_every_attempt_answer_and_score(timed_blueprint, tmp_path):
    make_attempts(timed_blueprint)
    attempts, slots = rows_here()
    assert len(attempts) == 4 and len(slots) == 24
    assert {a[3] for a in attempts} == {6, 0, 3, None}  # the three scores, and the open attempt's none yet
    assert all(s[3] for s in slots)  # every question answered

    if connection.vendor == "postgresql":
        restored = postgres_dump_and_restore(tmp_path)
    else:
        assert connection.vendor == "sqlite"
        restored = sqlite_backup_and_restore(tmp_path)

    assert restored == (attempts, slots)


def test_the_compose_deployment_dumps_postgres_nightly_to_a_volume_and_keeps_14():
    compose = yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())
    backup = compose["services"]["backup"]
    script = " ".join(backup["command"]) if isinstance(backup["command"], list) else backup["command"]
    assert backup["image"].startswith("postgres:") and "pg_dump -Fc" in script
    assert backup["environment"]["KEEP_DUMPS"] == "14" and "KEEP_DUMPS" in script
    volume = backup["volumes"][0].split(":")
    assert volume[1] == "/backups" and volume[0] in compose["volumes"]
    assert backup["depends_on"]["db"]["condition"] == "service_healthy"
