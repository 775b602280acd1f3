"""A person takes exams in Debian's Chromium, driven by Playwright against a live server."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from quizapp.exams.models import Attempt, AttemptState

from .conftest import log_in, start_exam

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_take_a_short_timed_exam_like_a_person(browser, live_server, exam, person):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, live_server, "casey")

    page.get_by_role("link", name="Short timed set").first.click()
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Question 1 of 5")).to_be_visible()
    page.wait_for_selector("html.js")  # app.js has loaded, so keyboard shortcuts are live
    expect(page.locator("[data-timer-value]")).to_have_text(re.compile(r"^(10:00|09:5\d)$"))

    # Q1 by keyboard: "1" picks the first option and it is saved at once.
    page.keyboard.press("1")
    expect(page.locator("#save-status")).to_contain_text("Answer saved")
    expect(page.locator("a.palette-item.is-answered")).to_have_count(1)

    # Q2 by mouse, then flag it with F.
    page.keyboard.press("n")
    expect(page.get_by_text("Question 2 of 5")).to_be_visible()
    page.locator(".option").nth(1).click()
    expect(page.locator("#save-status")).to_contain_text("Answer saved")
    page.keyboard.press("f")
    expect(page.get_by_role("button", name=re.compile("Flagged for review"))).to_be_visible()

    # Reload: the same question, the same answer, the same flag, the clock still running down.
    page.reload()
    expect(page.get_by_text("Question 2 of 5")).to_be_visible()
    expect(page.locator("input[name=choice]").nth(1)).to_be_checked()
    expect(page.locator("a.palette-item.is-flagged")).to_have_count(1)

    # Back with P, forward through the palette, then the review screen.
    page.keyboard.press("p")
    expect(page.get_by_text("Question 1 of 5")).to_be_visible()
    expect(page.locator("input[name=choice]").first).to_be_checked()
    page.get_by_role("link", name="Question 5, not answered").click()
    expect(page.get_by_text("Question 5 of 5")).to_be_visible()
    page.get_by_role("link", name="Review answers").click()
    expect(page.get_by_role("heading", name="Review before you submit")).to_be_visible()
    expect(page.get_by_text("2 of 5 answered")).to_be_visible()
    expect(page.get_by_role("link", name="Question 2").first).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Submit exam").click()
    expect(page.get_by_role("heading", name="Score by domain")).to_be_visible()
    expect(page.locator(".domain-table tbody tr")).to_have_count(5)
    expect(page.get_by_text("Question by question")).to_be_visible()
    expect(page.locator(".result-grid li")).to_have_count(5)
    expect(page.get_by_role("link", name="Question 5: Not answered")).to_be_visible()

    # A cell of the grid opens that question on the answers page.
    page.get_by_role("link", name=re.compile(r"^Question 2: .*, Flagged$")).click()
    expect(page).to_have_url(re.compile(r"/answers/\?show=all#q2$"))
    expect(page.get_by_role("heading", name="Answers", exact=True)).to_be_visible()
    expect(page.locator("#q2")).to_be_in_viewport()
    expect(page.locator(".review-item")).to_have_count(5)
    page.get_by_role("link", name="Back to the result").first.click()
    expect(page.get_by_role("heading", name="Score by domain")).to_be_visible()

    attempt = Attempt.objects.get(user=person)
    assert attempt.state == AttemptState.FINISHED
    assert attempt.slots.exclude(selected_choice_ids=[]).count() == 2
    assert errors == []
    context.close()


def test_the_countdown_submits_when_time_runs_out(browser, live_server, exam, person):
    context = browser.new_context()
    page = context.new_page()
    start_exam(page, live_server, exam)
    page.keyboard.press("2")
    expect(page.locator("#save-status")).to_contain_text("Answer saved")
    attempt = Attempt.objects.get(user=person)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + timedelta(seconds=3))
    page.reload()
    expect(page.get_by_role("heading", name="Score by domain")).to_be_visible(timeout=15_000)
    expect(page.get_by_text("time ran out")).to_be_visible()
    attempt.refresh_from_db()
    assert attempt.finish_reason == Attempt.FinishReason.TIME_UP
    assert attempt.slots.exclude(selected_choice_ids=[]).count() == 1
    context.close()


def test_the_same_exam_works_without_javascript(browser, live_server, exam, person):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    start_exam(page, live_server, exam, javascript=False)
    page.locator(".option").first.click()
    page.get_by_role("button", name="Save and next").click()
    expect(page.get_by_text("Question 2 of 5")).to_be_visible()
    expect(page.get_by_text("Answer saved.")).to_be_visible()
    page.get_by_role("button", name=re.compile("Flag for review")).click()
    expect(page.get_by_role("button", name=re.compile("Flagged for review"))).to_be_visible()
    page.get_by_role("button", name="Save, review & submit").click()
    page.get_by_role("button", name="Submit exam").click()
    expect(page.get_by_role("heading", name="Score by domain")).to_be_visible()
    attempt = Attempt.objects.get(user=person)
    assert attempt.state == AttemptState.FINISHED
    assert attempt.slots.get(position=1).selected_choice_ids
    assert attempt.slots.get(position=2).flagged
    context.close()


def test_a_failed_save_is_shown_and_a_retry_saves(browser, live_server, exam, person):
    context = browser.new_context()
    page = context.new_page()
    start_exam(page, live_server, exam)
    page.route("**/answer/", lambda route: route.abort())  # the network drops the autosave
    page.locator(".option").nth(0).click()
    expect(page.locator("#save-status")).to_contain_text("Not saved")
    assert Attempt.objects.get(user=person).slots.get(position=1).selected_choice_ids == []
    page.unroute("**/answer/")
    page.locator(".option").nth(1).click()
    expect(page.locator("#save-status")).to_contain_text("Answer saved")
    slot = Attempt.objects.get(user=person).slots.get(position=1)
    assert slot.selected_choice_ids == [slot.choice_order[1]]
    context.close()
