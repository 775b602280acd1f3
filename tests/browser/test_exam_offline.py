"""The exam page survives a lost network: answers given offline are kept in the browser and saved, in order, when
the connection returns; a later answer from another device is never overwritten; refusals are said plainly."""

import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from quizapp.exams import services
from quizapp.exams.models import Attempt

from .conftest import start_exam
from .test_accessibility import AXE_OPTIONS, describe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def chosen(page, index):
    """Choose the option at `index` on the page shown (online or the offline copy); returns its choice id."""
    option = page.locator("[data-answer-form] input[name=choice]").nth(index)
    option.check()
    return int(option.get_attribute("value"))


def test_three_answers_given_offline_are_all_saved_when_the_network_returns(browser, live_server, exam, person):
    context = browser.new_context()
    page = context.new_page()
    start_exam(page, live_server, exam)
    page.wait_for_selector("html[data-offline-ready]")
    attempt = Attempt.objects.get(user=person)

    context.set_offline(True)
    given = {1: chosen(page, 0)}
    expect(page.locator("#offline-banner")).to_contain_text("1 answer is kept in this browser")
    page.get_by_role("link", name=re.compile("Next")).click()
    expect(page.get_by_text("Offline copy")).to_be_visible()
    expect(page.locator(".exam-progress strong")).to_have_text("2")
    violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    assert not violations, describe(violations)  # the offline copy is as accessible as the page it stands for
    given[2] = chosen(page, 1)
    page.keyboard.press("n")  # the keyboard works on the offline copy too
    expect(page.locator(".exam-progress strong")).to_have_text("3")
    given[3] = chosen(page, 2)
    expect(page.locator("#offline-banner")).to_contain_text("3 answers are kept in this browser")
    assert not any(attempt.slots.values_list("selected_choice_ids", flat=True))  # nothing reached the server

    context.set_offline(False)
    # Saved in order, then the page reloads the real question 3 from the server, showing the stored answer.
    expect(page.get_by_text("Offline copy")).to_be_hidden(timeout=40_000)
    expect(page.locator("#save-status")).to_contain_text("Answer saved")
    stored = dict(attempt.slots.filter(position__in=given).values_list("position", "selected_choice_ids"))
    assert stored == {position: [choice] for position, choice in given.items()}
    assert page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('quizapp:pending:'))") == []
    context.close()


def test_an_answer_kept_offline_never_overwrites_a_later_one_from_another_device(browser, live_server, exam, person):
    context = browser.new_context()
    page = context.new_page()
    start_exam(page, live_server, exam)
    page.wait_for_selector("html[data-offline-ready]")
    attempt = Attempt.objects.get(user=person)
    slot = attempt.slots.get(position=1)
    context.set_offline(True)
    chosen(page, 0)
    expect(page.locator("#offline-banner")).to_contain_text("kept in this browser")
    # Meanwhile, on another device, the learner answers question 1 differently, later.
    later = slot.choice_order[1]
    services.attempt_save_answer(
        attempt_id=attempt.pk, position=1, choice_ids=[later], now=timezone.now() + timedelta(seconds=1)
    )
    context.set_offline(False)
    expect(page.locator("#offline-banner")).to_contain_text("Could not be saved: question 1", timeout=40_000)
    slot.refresh_from_db()
    assert slot.selected_choice_ids == [later]
    context.close()
