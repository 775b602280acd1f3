"""A learner takes two timed attempts, reads the dashboard (chart, table, weakest domain), reviews a mistake the
next day and practises a note's questions, in Chromium against a live server."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from quizapp.bank.models import Note
from quizapp.exams import services
from quizapp.exams.models import Attempt
from quizapp.progress.models import ReviewCard

from .conftest import log_in, start_exam

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def answer_all(page, live_server, attempt, weak_domain):
    """Answer every question: wrongly in `weak_domain`, rightly elsewhere; then submit."""
    for slot in attempt.slots.select_related("question_version").order_by("position"):
        page.goto(f"{live_server.url}/attempts/{attempt.pk}/questions/{slot.position}/")
        correct = slot.question_version.correct_choice_ids()
        wrong = slot.question_version.domain.number == weak_domain
        ids = [c for c in slot.choice_order if (c not in correct) == wrong]
        for choice_id in ids if not wrong else ids[:1]:
            page.locator(f".option:has(input[value='{choice_id}'])").click()
            expect(page.locator("#save-status")).to_contain_text("Answer saved")
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/review/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Submit exam").click()
    expect(page.get_by_role("heading", name="Score by domain")).to_be_visible()


def test_dashboard_review_and_notes_drill(browser, live_server, exam, person):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    start_exam(page, live_server, exam)
    first = Attempt.objects.get(user=person)
    weak = first.slots.get(position=1).question_version.domain.number
    answer_all(page, live_server, first, weak)
    page.goto(f"{live_server.url}/exams/{exam.bank.slug}/{exam.slug}/")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Question 1 of 5")).to_be_visible()
    second = Attempt.objects.filter(user=person).exclude(pk=first.pk).get()
    answer_all(page, live_server, second, weak)

    # The dashboard: the chart of both attempts with the pass mark, its table, and the weakest domain first.
    page.get_by_role("link", name="DevOps Pro Prep, home").click()
    chart = page.get_by_role("img", name=re.compile("Score per timed exam or set, 2 attempts"))
    expect(chart).to_be_visible()
    expect(chart.locator("circle.chart-point")).to_have_count(2)
    expect(page.locator("svg.chart-timed text.chart-pass-label")).to_have_text("Pass")
    table = page.get_by_role("region", name="Timed scores as a table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.get_by_role("link", name="Short timed set")).to_have_count(2)
    weakest = page.locator("#weak-domains li").first
    expect(weakest).to_contain_text(f"Domain name {weak}")
    expect(weakest).to_contain_text("0%")
    expect(page.get_by_text("nothing due today")).to_be_visible()

    # A day later the mistakes are due: review them, with the explanation after the answer.
    ReviewCard.objects.filter(user=person).update(due=timezone.now() - timedelta(minutes=1))
    due = ReviewCard.objects.filter(user=person).count()
    assert due >= 1
    page.reload()
    expect(page.get_by_text(f"{due} question{'s' if due > 1 else ''} due today")).to_be_visible()
    page.get_by_role("link", name=re.compile("Review now")).click()
    page.get_by_role("button", name=re.compile("Start review")).click()
    expect(page.get_by_text(f"Question 1 of {due}")).to_be_visible()
    page.locator(".option").first.click()
    expect(page.locator("#save-status")).to_contain_text("Answer saved")
    page.get_by_role("button", name="Check answer").click()
    expect(page.locator(".feedback .explanation")).to_contain_text("EXPLANATION-")
    review = Attempt.objects.get(user=person, context="review")
    assert review.is_practice and not review.blueprint.is_active

    # Notes: a note cited by one question shows its mastery and drills exactly that question.
    version = first.slots.get(position=1).question_version
    note = Note.objects.create(bank=exam.bank, key="deploy-09", heading="Deployment", text="blue/green", position=1)
    version.notes.add(note)
    page.get_by_role("link", name="Notes").click()
    item = page.locator(".note-item", has_text="deploy-09")
    expect(item).to_contain_text("0% right")
    item.get_by_role("link", name=re.compile("Practise 1 question")).click()
    expect(page.get_by_text("Exactly the 1 published question(s) that cite note [deploy-09]")).to_be_visible()
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Question 1 of 1")).to_be_visible()
    drill = Attempt.objects.get(user=person, context=f"note:{note.pk}")
    assert list(drill.slots.values_list("question_version_id", flat=True)) == [version.pk]
    assert errors == []
    context.close()


def test_progress_pages_fit_a_phone(browser, live_server, exam, person):
    attempt = services.attempt_start(user=person, blueprint=exam, now=timezone.now())
    for slot in attempt.slots.all():
        services.attempt_save_answer(
            attempt_id=attempt.pk, position=slot.position, choice_ids=slot.choice_order[:1], now=timezone.now()
        )
    services.attempt_finish(attempt_id=attempt.pk, now=timezone.now())
    domain = exam.bank.domains.first()
    for javascript in (True, False):
        context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=javascript)
        page = context.new_page()
        log_in(page, live_server, "casey")
        for path in ["/", "/history/", "/review/", "/practice/smart/", f"/practice/domain/{domain.pk}/", "/notes/"]:
            page.goto(live_server.url + path)
            width = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert width == 0, (path, javascript)
        context.close()
