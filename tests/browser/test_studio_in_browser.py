"""An instructor builds a bank in Chromium; a learner takes its exam and reports a question; the instructor replies."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from quizapp.bank.models import Bank, Question, QuestionReport
from tests.factories import UserFactory

from .conftest import log_in
from .test_accessibility import AXE_OPTIONS, describe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STEM = (
    "A team deploys a Lambda function with CodeDeploy. It wants 10 percent of traffic on the new version for ten "
    "minutes before the rest, with automatic rollback. Which deployment configuration fits?"
)
EXPLANATION = (
    "The canary configuration shifts a small share of traffic to the new version first and the rest after the "
    "interval, and CodeDeploy rolls back automatically when an alarm fires. All at once moves everything in one "
    "step, linear moves in equal steps over a longer time, and a manual alias update has no automatic rollback."
)
OPTIONS = [
    ("Canary10Percent10Minutes", "Ten percent first, the rest after ten minutes."),
    ("AllAtOnce", "Shifts all traffic at once."),
    ("Linear10PercentEvery10Minutes", "Ten equal steps, not two."),
    ("A manual alias update", "No automatic rollback."),
]


def test_an_instructor_builds_a_bank_and_a_learner_takes_its_exam_and_reports_a_question(browser, live_server):
    UserFactory(username="ines", role="instructor")
    UserFactory(username="rae")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, "ines")
    page.get_by_role("link", name="Studio").click()
    page.get_by_role("link", name="New bank").click()
    page.get_by_label("Title").fill("Pipeline practice")
    page.get_by_role("button", name="Create bank").click()
    expect(page.get_by_role("heading", name="Pipeline practice")).to_be_visible()

    page.get_by_role("link", name="New question").click()
    page.wait_for_selector("html.js")
    page.get_by_label("Task statement").select_option("1.4")
    page.get_by_label("Scenario and question").fill(STEM)
    # Options inline: the form starts with four; add a fifth (HTMX), then remove it again.
    expect(page.locator(".option-row")).to_have_count(4)
    page.get_by_role("button", name="+ Add option").click()
    expect(page.locator(".option-row")).to_have_count(5)
    expect(page.get_by_label("Scenario and question")).to_have_value(STEM)  # what was typed survives
    page.get_by_role("button", name="Remove option 5").click()
    expect(page.locator(".option-row")).to_have_count(4)
    for n, (text, rationale) in enumerate(OPTIONS, start=1):
        page.get_by_label(f"Option {n} text").fill(text)
        if n != 2:
            page.get_by_label(f"Option {n} rationale").fill(rationale)
    page.locator(".option-row").nth(0).get_by_label(re.compile("Correct")).check()
    page.locator(".option-row").nth(1).get_by_label(re.compile("Correct")).check()
    page.get_by_label("Explanation").fill(EXPLANATION)
    page.get_by_role("button", name="Save question").click()
    # The validation: two correct options on a single-answer question, and a missing rationale.
    expect(page.get_by_text("exactly one correct option; 2 are marked")).to_be_visible()
    expect(page.get_by_text("Write a one-line rationale")).to_be_visible()
    page.locator(".option-row").nth(1).get_by_label(re.compile("Correct")).uncheck()
    page.get_by_label("Option 2 rationale").fill(OPTIONS[1][1])
    page.get_by_role("button", name="Save question").click()
    expect(page.get_by_text("Question saved as a draft.")).to_be_visible()
    # The preview: during the exam no key; in the review the key, its rationale and the explanation.
    expect(page.get_by_role("heading", name="As a learner sees it during a timed exam")).to_be_visible()
    expect(page.locator(".review-option.is-correct")).to_have_count(1)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("The question is now published.")).to_be_visible()

    page.get_by_role("link", name="Exams").last.click()
    page.get_by_role("link", name="New exam").click()
    page.get_by_label("Title").fill("One-question check")
    page.get_by_label("Mode").select_option("practice")
    page.get_by_label("Question count").fill("1")
    page.get_by_label("Weight of domain 1").fill("1")
    page.get_by_role("button", name="Save exam").click()
    expect(page.get_by_text("Exam “One-question check” saved.")).to_be_visible()
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Status").select_option("published")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Bank settings saved.")).to_be_visible()
    assert Bank.objects.get(title="Pipeline practice").is_published
    assert errors == []

    learner = browser.new_context().new_page()
    log_in(learner, live_server, "rae")
    learner.get_by_role("link", name="Exams").first.click()
    learner.get_by_role("link", name="One-question check").first.click()
    learner.get_by_role("button", name="Start").click()
    learner.wait_for_selector("html.js")
    learner.locator(".option").filter(has_text="AllAtOnce").click()
    expect(learner.locator("#save-status")).to_contain_text("Answer saved")
    learner.get_by_role("link", name="Finish drill").click()
    learner.once("dialog", lambda dialog: dialog.accept())
    learner.get_by_role("button", name=re.compile("Submit|Finish")).click()
    learner.get_by_role("link", name=re.compile(r"^All \d+$")).click()  # from the result to the answers page
    learner.get_by_role("link", name="Report a problem").click()
    learner.get_by_label("What is wrong?").select_option("unclear")
    learner.get_by_label("Details (optional)").fill("Is the rollback alarm required?")
    learner.get_by_role("button", name="Send report").click()
    expect(learner.get_by_text("their reply appears on your dashboard")).to_be_visible()

    page.goto(f"{live_server.url}/studio/")
    page.get_by_role("link", name="Pipeline practice").click()
    page.get_by_role("link", name="Reports").first.click()
    expect(page.get_by_text("Is the rollback alarm required?")).to_be_visible()
    page.get_by_label("Resolve").check()
    page.get_by_label("Reply to the learner").fill("Yes: add a CloudWatch alarm to the deployment group.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Reply sent")).to_be_visible()
    assert QuestionReport.objects.get().status == QuestionReport.Status.RESOLVED

    learner.goto(f"{live_server.url}/")
    expect(learner.get_by_text("Yes: add a CloudWatch alarm to the deployment group.")).to_be_visible()
    assert Question.objects.get().status == Question.Status.PUBLISHED
    context.close()


def test_studio_pages_have_no_accessibility_violations(browser, live_server):
    from django.test import Client
    from django.urls import reverse

    from quizapp.bank import editing
    from tests.studio.helpers import question_post

    owner = UserFactory(username="avery", role="instructor")
    bank = editing.bank_create(owner=owner, title="Audit bank")
    client = Client()
    client.force_login(owner)
    client.post(reverse("studio:question_create", args=[bank.slug]), question_post())
    question = Question.objects.get(bank=bank)
    client.post(
        reverse("studio:question_edit", args=[bank.slug, question.key]),
        question_post(stem=question_post()["stem"] + " Now."),
    )
    reporter = UserFactory()
    editing.report_create(version=question.current_version, reporter=reporter, kind="unclear", text="Why?")
    from quizapp.bank.models import ImportDraft
    from tests.studio.test_import_export import BROKEN

    draft = ImportDraft.objects.create(
        bank=bank, uploaded_by=owner, file_name="week3.gift", file_format="gift", content=BROKEN.encode()
    )
    page = browser.new_page()
    log_in(page, live_server, "avery")
    axe = Axe()
    paths = [
        "/studio/",
        "/studio/banks/new/",
        f"/studio/banks/{bank.slug}/",
        f"/studio/banks/{bank.slug}/settings/",
        f"/studio/banks/{bank.slug}/editors/",
        f"/studio/banks/{bank.slug}/questions/new/",
        f"/studio/banks/{bank.slug}/questions/{question.key}/",
        f"/studio/banks/{bank.slug}/questions/{question.key}/edit/",
        f"/studio/banks/{bank.slug}/questions/{question.key}/history/",
        f"/studio/banks/{bank.slug}/exams/",
        f"/studio/banks/{bank.slug}/exams/new/",
        f"/studio/banks/{bank.slug}/analysis/",
        f"/studio/banks/{bank.slug}/reports/",
        f"/studio/banks/{bank.slug}/import/",
        f"/studio/banks/{bank.slug}/import/{draft.pk}/",
        f"/studio/banks/{bank.slug}/export/",
    ]
    for path in paths:
        page.goto(live_server.url + path)
        violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
        assert not violations, f"{path}\n{describe(violations)}"
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.set_viewport_size({"width": 390, "height": 844})
    for path in paths:
        page.goto(live_server.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow == 0, f"{path} scrolls sideways on a phone"


def test_an_instructor_imports_a_gift_file_fixes_its_error_and_downloads_moodle_xml(browser, live_server, tmp_path):
    from quizapp.bank import editing
    from tests.studio.test_import_export import BROKEN, GOOD

    owner = UserFactory(username="ines", role="instructor")
    bank = editing.bank_create(owner=owner, title="Imported")
    page = browser.new_context(accept_downloads=True).new_page()
    log_in(page, live_server, "ines")
    page.goto(f"{live_server.url}/studio/banks/{bank.slug}/import/")
    page.wait_for_selector("html.js")

    def upload(text):
        page.get_by_label("File", exact=True).set_input_files(
            {"name": "week3.gift", "mimeType": "text/plain", "buffer": text.encode()}
        )
        page.get_by_label("Format").select_option("gift")
        page.get_by_label("Domain for questions that name none").select_option("1")
        page.get_by_label("Task statement for questions that name none").select_option("1.4")
        page.get_by_label("Topic for questions that name none").select_option("deployment")
        page.get_by_role("button", name="Upload and preview").click()

    upload(BROKEN)
    expect(page.get_by_text("Nothing can be imported until these are fixed")).to_be_visible()
    expect(page.get_by_text(re.compile(r"week3\.gift, line 12: .*exactly 4 options"))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Import"))).to_have_count(0)
    page.get_by_role("link", name="Upload another file").click()
    upload(GOOD)
    expect(page.get_by_role("heading", name="To create (1)")).to_be_visible()
    page.get_by_role("button", name="Import 1 question").click()
    expect(page.get_by_text("Imported from week3.gift")).to_be_visible()
    assert Question.objects.get(bank=bank).status == Question.Status.PUBLISHED

    page.get_by_role("link", name="Export").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Moodle XML").click()
    download = download_info.value
    assert download.suggested_filename == f"{bank.slug}.moodle.xml"
    path = tmp_path / "out.xml"
    download.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<?xml") and "Canary10Percent5Minutes" in text
