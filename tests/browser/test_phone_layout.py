"""Every page a learner meets fits a 390 px phone: no sideways scrolling, with and without JavaScript.

Includes every question of the shipped bank, because long AWS identifiers (AutoScalingReplacingUpdate, ARNs,
API names) in a stem or an option were what pushed pages wider than the screen.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from quizapp.bank.models import Bank, Question
from quizapp.exams import services
from quizapp.exams.models import Attempt
from tests.factories import BlueprintFactory, UserFactory

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def overflow(page):
    """How many CSS pixels the page is wider than the viewport (0 when nothing scrolls sideways)."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.fixture
def shipped_bank_attempts(db):
    """The shipped bank loaded, and one learner with an open attempt holding every one of its questions."""
    call_command("load_bank", stdout=StringIO())
    bank = Bank.objects.get(slug="dop-c02")
    every_question = BlueprintFactory(
        bank=bank, slug="every-question", title="Every question", question_count=1000, duration_minutes=600
    )
    learner = UserFactory(username="phone")
    finished = services.attempt_start(
        user=learner, blueprint=bank.blueprints.get(slug="quick-timed-set"), now=timezone.now()
    )
    services.attempt_finish(attempt_id=finished.pk, now=timezone.now())
    open_attempt = services.attempt_start(user=learner, blueprint=every_question, now=timezone.now())
    return bank, open_attempt, finished


def test_no_page_scrolls_sideways_on_a_phone(browser, live_server, shipped_bank_attempts):
    bank, open_attempt, finished = shipped_bank_attempts
    assert open_attempt.question_count == Question.objects.published().filter(bank=bank).count()
    for javascript in (True, False):
        context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
        page = context.new_page()
        for path in ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]:
            page.goto(live_server.url + path)
            assert overflow(page) == 0, (path, javascript)
        # The header's "Sign up" button is readable: its text is not the colour of its background.
        sign_up = page.locator(".site-header").get_by_role("link", name="Sign up")
        colours = sign_up.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
        assert colours[0] != colours[1]
        log_in(page, live_server, "phone")
        header_height = page.locator(".site-header").evaluate("e => e.getBoundingClientRect().height")
        assert header_height < 80, "the header fits on one row"
        pages = [
            "/",
            "/exams/",
            f"/exams/{bank.slug}/full-mock/",
            f"/exams/{bank.slug}/domain-drill/",
            "/history/",
            "/accounts/password/change/",
            f"/attempts/{open_attempt.pk}/review/",
            f"/attempts/{finished.pk}/result/",
            f"/attempts/{finished.pk}/answers/",
            f"/attempts/{finished.pk}/answers/?show=incorrect",
        ]
        for path in pages:
            page.goto(live_server.url + path)
            assert overflow(page) == 0, (path, javascript)
        if javascript:  # every question of the bank, once
            for position in range(1, open_attempt.question_count + 1):
                page.goto(f"{live_server.url}/attempts/{open_attempt.pk}/questions/{position}/", wait_until="load")
                assert overflow(page) == 0, f"question {position} scrolls sideways"
                next_button = page.locator(".question-actions [data-shortcut=next]")
                box = next_button.bounding_box()
                assert box and box["x"] + box["width"] <= PHONE["width"], f"question {position}: Next is off-screen"
        else:
            page.goto(f"{live_server.url}/attempts/{open_attempt.pk}/questions/1/")
            assert overflow(page) == 0
        context.close()


def test_without_javascript_the_exam_page_says_only_what_is_true(browser, live_server, exam, person):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server, "casey")
    page.goto(f"{live_server.url}/exams/{exam.bank.slug}/{exam.slug}/")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Question 1 of 5")).to_be_visible()
    timer = page.locator("[data-timer]")
    expect(timer.locator("[data-timer-value]")).to_have_text("10:00")
    expect(timer).to_contain_text("when this page loaded")
    expect(page.get_by_text("saved as soon as you pick it")).to_be_hidden()
    expect(page.locator(".shortcuts")).to_be_hidden()
    expect(page.get_by_role("link", name="Next")).to_have_count(0)
    # Moving on saves the choice: "Save and next" is a button of the answer form.
    page.locator(".option").nth(2).click()
    page.get_by_role("button", name="Save and next").click()
    expect(page.get_by_text("Question 2 of 5")).to_be_visible()
    slot = Attempt.objects.get(user=person).slots.get(position=1)
    assert slot.selected_choice_ids == [slot.choice_order[2]]
    # So does a palette button.
    page.locator(".option").nth(0).click()
    page.get_by_role("button", name="Save and go to Question 4, not answered").click()
    expect(page.get_by_text("Question 4 of 5")).to_be_visible()
    slot = Attempt.objects.get(user=person).slots.get(position=2)
    assert slot.selected_choice_ids == [slot.choice_order[0]]
    # And flagging: the flag button submits the answer form, so the choice made just before is kept.
    page.locator(".option").nth(1).click()
    page.get_by_role("button", name="Flag for review").click()
    expect(page.get_by_role("button", name="Flagged for review")).to_be_visible()
    slot = Attempt.objects.get(user=person).slots.get(position=4)
    assert slot.flagged and slot.selected_choice_ids == [slot.choice_order[1]]
    context.close()


def test_after_n_or_p_focus_is_on_the_question_without_a_ring_around_the_page(browser, live_server, exam, person):
    from .conftest import start_exam

    context = browser.new_context()
    page = context.new_page()
    start_exam(page, live_server, exam)
    expect(page.locator("[data-timer-value]")).not_to_have_text("600 s")
    page.keyboard.press("n")
    expect(page.get_by_text("Question 2 of 5")).to_be_visible()
    expect(page.locator("#question-stem")).to_be_focused()
    ring = page.locator("#question-stem").evaluate(
        "e => [getComputedStyle(e).outlineStyle, getComputedStyle(e).boxShadow]"
    )
    assert ring == ["none", "none"]
    context.close()
