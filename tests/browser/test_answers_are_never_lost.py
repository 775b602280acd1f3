"""The answer a learner gave last is the one stored, however they moved: boosted links, reload, back, two tabs."""

import time

import pytest
from playwright.sync_api import expect

from quizapp.exams.models import Attempt

from .conftest import log_in, start_exam

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def stored_choice(person, position=1):
    slot = Attempt.objects.get(user=person).slots.get(position=position)
    return slot.selected_choice_ids, slot.choice_order


def pick(page, index):
    """Click the option at `index` (in this attempt's order) and wait for the page to say it was saved."""
    page.locator(".option").nth(index).click()
    expect(page.locator("#save-status")).to_contain_text("Answer saved")


def test_changes_after_boosted_navigation_reload_back_and_a_second_device_are_all_kept(
    browser, live_server, exam, person
):
    """The scenario of issue 6: a tab open for a while, boosted moves, then a reload and a second device.

    Before the fix, autosaves carried a client number that grew with the time since the first full page load,
    so after a reload (or on another device) every change lost to the earlier one while the page said "saved".
    """
    context = browser.new_context()
    page = context.new_page()
    start_exam(page, live_server, exam)
    attempt = Attempt.objects.get(user=person)
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/questions/1/")  # a full load of question 1
    page.wait_for_selector("html.js")
    time.sleep(6)  # the tab stays open a while: the old protocol's offset grows with this
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_text("Question 2 of 5")).to_be_visible()
    page.get_by_role("link", name="Previous").click()
    expect(page.get_by_text("Question 1 of 5")).to_be_visible()
    pick(page, 0)
    chosen, order = stored_choice(person)
    assert chosen == [order[0]]

    page.reload()
    page.wait_for_selector("html.js")
    pick(page, 1)
    chosen, order = stored_choice(person)
    assert chosen == [order[1]], "after a reload the newer answer must replace the older one"

    # Back and forward: htmx keeps no snapshot, so Back shows what the server stored and saves from there.
    page.keyboard.press("n")
    expect(page.get_by_text("Question 2 of 5")).to_be_visible()
    page.go_back()
    expect(page.get_by_text("Question 1 of 5")).to_be_visible()
    page.wait_for_selector("html.js")
    expect(page.locator("input[name=choice]").nth(1)).to_be_checked()
    pick(page, 2)
    assert stored_choice(person)[0] == [order[2]]

    # A second device, logged in separately, changes the answer: it wins because it came later.
    other = browser.new_context()
    second = other.new_page()
    log_in(second, live_server, "casey")
    second.goto(f"{live_server.url}/attempts/{attempt.pk}/questions/1/")
    second.wait_for_selector("html.js")
    pick(second, 3)
    assert stored_choice(person)[0] == [order[3]]

    # Back on the first device's older page: a click there is now the latest answer, so it is the one kept.
    pick(page, 0)
    assert stored_choice(person)[0] == [order[0]]
    other.close()
    context.close()


def test_a_save_the_server_refused_as_stale_is_not_shown_as_saved(browser, live_server, exam, person):
    """A save older than the stored answer changes nothing, and the page says so instead of "saved"."""
    context = browser.new_context()
    page = context.new_page()
    start_exam(page, live_server, exam)
    pick(page, 0)
    # Another device saved an answer given later than this page's next click can be (its moment is in the future).
    slot = Attempt.objects.get(user=person).slots.get(position=1)
    Attempt.objects.get(user=person).slots.filter(position=1).update(
        answer_given_at=slot.answer_given_at.replace(year=slot.answer_given_at.year + 1)
    )
    page.locator(".option").nth(1).click()
    expect(page.locator("#save-status")).to_contain_text("Not saved")
    expect(page.locator("#save-status")).not_to_contain_text("Answer saved")
    assert stored_choice(person)[0] == [slot.choice_order[0]]
    context.close()
