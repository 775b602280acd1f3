"""Shared set-up for the browser tests: one Chromium per module and the steps every test starts with."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.factories import PASSWORD, BlueprintFactory, UserFactory, bank_with_questions

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs it (or run scripts/ensure-browser).")
    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls stay synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
            )
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=f"Hello, {username}")).to_be_visible()


@pytest.fixture
def exam(db):
    bank = bank_with_questions(per_domain=2, slug="browser-bank")
    blueprint = BlueprintFactory(
        bank=bank, slug="short", title="Short timed set", question_count=5, duration_minutes=10
    )
    return blueprint


@pytest.fixture
def person(db):
    return UserFactory(username="casey")


def start_exam(page, live_server, exam, *, javascript=True):
    """Log in as casey, start the short exam and wait for question 1 (and, with JavaScript, for app.js)."""
    log_in(page, live_server, "casey")
    page.goto(f"{live_server.url}/exams/{exam.bank.slug}/{exam.slug}/")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Question 1 of 5")).to_be_visible()
    if javascript:  # keyboard shortcuts and autosave act only once app.js has run
        page.wait_for_selector("html.js")
