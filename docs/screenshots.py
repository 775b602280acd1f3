"""Regenerate the README screenshots from a running `make run` (demo accounts, shipped bank).

make run            # in one terminal
make screenshots    # in another: writes docs/exam-page.png, docs/score-report.png, docs/exam-phone.png
"""

import os
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

BASE = os.environ.get("BASE_URL", "http://127.0.0.1:8000")
OUT = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def settled(page):
    """Wait until htmx has swapped and processed the new page (keyboard shortcuts act on processed forms)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(f"{BASE}/accounts/login/")
        page.get_by_label("Username").fill("learner")
        page.get_by_label("Password").fill("learner-demo-pass")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Hello, learner")).to_be_visible()
        page.goto(f"{BASE}/exams/dop-c02/quick-timed-set/")
        resume = page.get_by_role("link", name="Resume", exact=True)
        (resume if resume.count() else page.get_by_role("button", name="Start")).click()
        expect(page.locator("[data-answer-form]")).to_be_visible()
        page.goto(page.url.split("questions/")[0] + "questions/1/")
        page.wait_for_selector("html.js")  # app.js is loaded: keyboard shortcuts work
        for position in range(1, 15):
            expect(page.get_by_text(f"Question {position} of")).to_be_visible()
            settled(page)
            page.keyboard.press(str(1 + position % 3))
            expect(page.locator("#save-status")).to_contain_text("Answer saved")
            if position in (4, 9):
                page.keyboard.press("f")
                expect(page.locator(".flag-button.is-flagged")).to_be_visible()
            if position < 14:
                page.keyboard.press("n")
        page.get_by_role("link", name="Question 6, answered").click()
        expect(page.get_by_text("Question 6 of")).to_be_visible()
        settled(page)
        page.screenshot(path=OUT / "exam-page.png")
        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        phone.context.add_cookies(page.context.cookies())
        phone.goto(page.url)
        phone.screenshot(path=OUT / "exam-phone.png")
        page.goto(page.url.split("questions")[0] + "review/")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Submit exam").click()
        expect(page.get_by_role("heading", name="Score by domain")).to_be_visible()
        page.set_viewport_size({"width": 1280, "height": 1100})
        page.screenshot(path=OUT / "score-report.png")
        browser.close()
    print(f"Wrote {OUT / 'exam-page.png'}, {OUT / 'exam-phone.png'} and {OUT / 'score-report.png'}")


if __name__ == "__main__":
    main()
