"""Every page a learner meets passes axe-core's automated accessibility rules (WCAG 2.1 A and AA)."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from quizapp.bank.models import Note
from quizapp.exams import services
from tests.factories import BlueprintFactory, UserFactory, bank_with_questions

from .conftest import log_in

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def describe(violations):
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}" for v in violations
    )


def test_pages_have_no_accessibility_violations(browser, live_server):
    bank = bank_with_questions(per_domain=2, slug="a11y-bank")
    timed = BlueprintFactory(bank=bank, slug="timed", title="Timed", question_count=4, duration_minutes=10)
    drill = BlueprintFactory(
        bank=bank, slug="drill", title="Drill", mode="practice", duration_minutes=None, domain_selection="chosen"
    )
    user = UserFactory(username="avery")
    finished = services.attempt_start(user=user, blueprint=timed, now=timezone.now())
    for slot in finished.slots.all():  # answered, so the dashboard has charts, weak areas and review cards
        services.attempt_save_answer(
            attempt_id=finished.pk, position=slot.position, choice_ids=slot.choice_order[:1], now=timezone.now()
        )
    services.attempt_finish(attempt_id=finished.pk, now=timezone.now())
    open_attempt = services.attempt_start(user=user, blueprint=drill, domain=bank.domains.first(), now=timezone.now())
    note = Note.objects.create(bank=bank, key="n-01", heading="Section", text="a study note", position=1)
    bank.questions.first().current_version.notes.add(note)

    page = browser.new_page()
    axe = Axe()
    # The checker itself can fail: an image without alt text and an unlabelled input are caught.
    page.set_content('<html lang="en"><title>t</title><main><img src="x.png"><input></main></html>')
    caught = {v["id"] for v in axe.run(page, options=AXE_OPTIONS).response["violations"]}
    assert {"image-alt", "label"} <= caught
    public = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
    for path in public:
        page.goto(live_server.url + path)
        violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
        assert not violations, f"{path}\n{describe(violations)}"
    log_in(page, live_server, "avery")
    private = [
        "/",
        "/exams/",
        f"/exams/{bank.slug}/{drill.slug}/",
        f"/attempts/{open_attempt.pk}/questions/1/",
        f"/attempts/{open_attempt.pk}/review/",
        f"/attempts/{finished.pk}/result/",
        f"/attempts/{finished.pk}/answers/",
        f"/attempts/{finished.pk}/answers/?show=flagged",
        "/history/",
        "/history/?mode=timed&since=junk",
        "/review/",
        "/practice/smart/",
        f"/practice/domain/{bank.domains.first().pk}/",
        "/notes/",
        "/accounts/password/change/",
    ]
    for path in private:
        page.goto(live_server.url + path)
        violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
        assert not violations, f"{path}\n{describe(violations)}"
