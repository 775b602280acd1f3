"""A group sitting end to end in Chromium, with an instructor and a learner in two browser contexts; every
group page passes axe and fits a phone."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from quizapp.exams import services as exam_services
from quizapp.groups import services
from tests.factories import AssignmentFactory, MembershipFactory, StudyGroupFactory, UserFactory

from .conftest import log_in
from .test_accessibility import AXE_OPTIONS, describe
from .test_phone_layout import PHONE, overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cohort(exam, person):
    teacher = UserFactory(username="tess", role="instructor")
    group = StudyGroupFactory(owner=teacher, name="Tuesday cohort")
    MembershipFactory(group=group, user=person)
    assignment = AssignmentFactory(group=group, blueprint=exam, attempt_limit=2)
    return group, assignment


def test_a_live_sitting_from_lobby_to_debrief(browser, live_server, cohort):
    group, assignment = cohort
    teacher_context, learner_context = browser.new_context(), browser.new_context()
    teacher, learner = teacher_context.new_page(), learner_context.new_page()
    teacher.on("dialog", lambda dialog: dialog.accept())
    log_in(teacher, live_server, "tess")
    log_in(learner, live_server, "casey")

    teacher.goto(f"{live_server.url}/groups/{group.pk}/assignments/{assignment.pk}/")
    teacher.get_by_role("button", name="Open a sitting").click()
    expect(teacher.get_by_role("heading", name="Lobby open")).to_be_visible()
    teacher.wait_for_selector("html.js")
    expect(teacher.locator(".proctor-summary")).to_contain_text("0 of 1 joined")

    # The learner finds the sitting from their dashboard and waits in the lobby.
    learner.goto(live_server.url + "/")
    learner.get_by_role("link", name=assignment.blueprint.title).first.click()
    learner.get_by_role("link", name="Go to the lobby").click()
    expect(learner.get_by_text("Waiting for your instructor to start")).to_be_visible()
    expect(learner.get_by_text("casey (you)")).to_be_visible()
    learner.wait_for_selector("html.js")

    # The proctor view sees them arrive without a reload.
    expect(teacher.locator(".proctor-summary")).to_contain_text("1 of 1 joined", timeout=10_000)
    teacher.get_by_role("button", name="Start for everyone").click()
    expect(teacher.get_by_role("heading", name=re.compile("Running since"))).to_be_visible()

    # The learner's lobby turns into question 1 by itself.
    expect(learner.get_by_text("Question 1 of 5")).to_be_visible(timeout=10_000)
    learner.wait_for_selector("html.js")
    expect(learner.locator("[data-timer-value]")).to_have_text(re.compile(r"^(10:00|9:5\d|09:5\d)$"))
    learner.locator("[data-answer-form] input[name=choice]").first.check()
    expect(learner.locator("[data-save-status]")).to_contain_text("Answer saved")

    # The proctor view shows the progress without a reload, and never an answer.
    expect(teacher.locator("#proctor-live")).to_contain_text("1 / 5", timeout=10_000)

    # Fifteen more minutes for the learner: their countdown moves on its next poll.
    teacher.get_by_label("Extra minutes").fill("15")
    teacher.get_by_role("button", name="Give extra time").click()
    expect(teacher.get_by_text("casey has 15 more minute(s).")).to_be_visible()
    expect(learner.locator("[data-timer-value]")).to_have_text(re.compile(r"^2[45]:\d\d$"), timeout=15_000)

    # The instructor ends the sitting: the learner's page goes to the result by itself.
    teacher.get_by_role("button", name="End for everyone").click()
    expect(teacher.get_by_role("heading", name=re.compile("Ended"))).to_be_visible()
    learner.wait_for_url(re.compile(r"/result/$"), timeout=15_000)
    expect(learner.get_by_text("of 5 correct")).to_be_visible()

    # The debrief walks the group through the questions; the matrix shows the result.
    teacher.get_by_role("link", name="Debrief").click()
    expect(teacher.get_by_role("heading", name=re.compile("Question 1 of"))).to_be_visible()
    teacher.wait_for_selector("html.js")
    teacher.keyboard.press("ArrowRight")
    expect(teacher.get_by_role("heading", name=re.compile("Question 2 of"))).to_be_visible()
    teacher.goto(f"{live_server.url}/groups/{group.pk}/results/")
    row = teacher.locator(".matrix tbody tr", has_text="casey")
    expect(row).to_contain_text("%")
    expect(row.locator(".pill")).to_have_text(re.compile("Pass|Not yet"))
    teacher_context.close()
    learner_context.close()


@pytest.fixture
def every_group_page(cohort):
    """A group with a finished sitting, so that every group page has something to show; the paths by role."""
    group, assignment = cohort
    member = group.memberships.get().user
    services.co_instructor_add(group=group, username=UserFactory(username="cole", role="instructor").username)
    now = timezone.now()
    sitting = services.sitting_open(assignment=assignment, now=now)
    seat = services.sitting_join(sitting=sitting, user=member, now=now)
    services.sitting_start(sitting=sitting, now=now)
    attempt = services.seat_attempt(seat=seat, now=now)
    exam_services.attempt_finish(attempt_id=attempt.pk, now=now)
    services.sitting_end(sitting=sitting, now=now)
    live = services.sitting_open(
        assignment=AssignmentFactory(group=group, blueprint=assignment.blueprint, closes_at=now + timedelta(days=2)),
        now=now,
    )
    services.group_update(group=group, leaderboard_enabled=True)
    UserFactory(username="newcomer")
    base = f"/groups/{group.pk}"
    a = f"{base}/assignments/{assignment.pk}"
    teacher_paths = [
        "/groups/",
        "/groups/new/",
        base + "/",
        base + "/settings/",
        base + "/instructors/",
        base + "/members/",
        f"{base}/members/{member.pk}/",
        base + "/results/",
        base + "/assignments/new/",
        a + "/",
        a + "/edit/",
        f"{a}/sittings/{sitting.pk}/",
        f"{base}/assignments/{live.assignment_id}/sittings/{live.pk}/",
        a + "/debrief/",
    ]
    member_paths = [
        "/",
        "/groups/",
        "/groups/join/",
        base + "/",
        a + "/",
        f"{base}/assignments/{live.assignment_id}/",
        f"{base}/assignments/{live.assignment_id}/sittings/{live.pk}/lobby/",
        "/accounts/settings/",
    ]
    newcomer_paths = [f"/groups/invite/{group.invite_token}/"]
    return {"tess": teacher_paths, "casey": member_paths, "newcomer": newcomer_paths}


def test_every_group_page_passes_axe(browser, live_server, every_group_page):
    axe = Axe()
    for username, paths in every_group_page.items():
        context = browser.new_context()
        page = context.new_page()
        log_in(page, live_server, username)
        for path in paths:
            page.goto(live_server.url + path)
            violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
            assert not violations, f"{path} as {username}\n{describe(violations)}"
        context.close()


def test_every_group_page_fits_a_phone_with_and_without_javascript(browser, live_server, every_group_page):
    for javascript in (True, False):
        for username, paths in every_group_page.items():
            context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
            page = context.new_page()
            log_in(page, live_server, username)
            header_height = page.locator(".site-header").evaluate("e => e.getBoundingClientRect().height")
            assert header_height < 80, f"the header fits on one row for {username}"
            for path in paths:
                page.goto(live_server.url + path)
                assert overflow(page) == 0, (path, username, javascript)
            context.close()


def test_without_javascript_the_lobby_reloads_itself_and_says_so(browser, live_server, cohort):
    group, assignment = cohort
    sitting = services.sitting_open(assignment=assignment, now=timezone.now())
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server, "casey")
    page.goto(f"{live_server.url}/groups/{group.pk}/assignments/{assignment.pk}/sittings/{sitting.pk}/lobby/")
    expect(page.get_by_text("This page reloads every 10 seconds")).to_be_visible()
    expect(page.get_by_text("keep it open")).to_be_hidden()
    services.sitting_start(sitting=sitting, now=timezone.now())
    expect(page.get_by_text("Question 1 of 5")).to_be_visible(timeout=15_000)
    context.close()


def test_sign_up_picks_the_browsers_time_zone_and_times_are_shown_in_it(browser, live_server, cohort):
    group, assignment = cohort
    context = browser.new_context(timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/signup/")
    page.wait_for_selector("html.js")
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
    page.get_by_label("Username").fill("kenji")
    page.get_by_label("E-mail address").fill("kenji@example.com")
    page.get_by_label("Password", exact=True).fill("a-long-passphrase-9")
    page.get_by_label("Password confirmation").fill("a-long-passphrase-9")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/exams/$"))
    page.goto(f"{live_server.url}/groups/invite/{group.invite_token}/")
    page.get_by_role("button", name=re.compile("Join")).click()
    closes = timezone.localtime(assignment.closes_at, timezone=ZoneInfo("Asia/Tokyo"))
    expect(page.get_by_text(closes.strftime("%H:%M JST")).first).to_be_visible()
    context.close()
