"""The audit trail's pages and a learner's own-data pages on a 390 px phone (no sideways scroll, with and without
JavaScript) and under axe-core's WCAG 2.1 A/AA rules."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from quizapp import audit
from quizapp.bank import editing
from quizapp.groups import services
from tests.factories import PASSWORD, UserFactory
from tests.studio.helpers import instructor, new_bank

from .conftest import log_in
from .test_accessibility import AXE_OPTIONS, describe
from .test_phone_layout import PHONE, overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "AutoScalingReplacingUpdate-arn:aws:codedeploy:eu-west-1:123456789012:deploymentgroup:app/blue-green"


def test_audit_and_own_data_pages_fit_a_phone_and_pass_axe(browser, live_server):
    owner = instructor("owner")
    UserFactory(username="staffer", is_staff=True)
    with audit.acting(user=owner, ip="2001:db8:85a3:1234:5678:8a2e:370:7334"):
        bank = new_bank(owner, title=f"Bank {LONG}")
        editing.bank_update(bank=bank, title=LONG, description=LONG, status="published")
        group = services.group_create(owner=owner, name=f"Cohort {LONG}")
        services.group_update(group=group, description=LONG)
    pages = {
        "owner": [f"/studio/banks/{bank.slug}/audit/", f"/groups/{group.pk}/audit/", "/accounts/data/"],
        "staffer": ["/audit/", "/audit/?action=bank", "/accounts/delete/", "/accounts/settings/"],
    }
    axe = Axe()
    for username, paths in pages.items():
        for javascript in (True, False):
            context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
            page = context.new_page()
            if javascript:
                log_in(page, live_server, username)
            else:
                _log_in_without_js(page, live_server, username)
            for path in paths:
                page.goto(live_server.url + path)
                assert overflow(page) == 0, (path, javascript)
                if javascript:
                    violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
                    assert not violations, f"{path}\n{describe(violations)}"
            context.close()


def _log_in_without_js(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
