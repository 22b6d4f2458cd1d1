"""An employee checks a draft on the dashboard in real headless Chromium, with screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.store import Store
from monitor.store.schema import DraftCheckCountRow
from monitor.web import create_app
from tests.browser.test_browser_dashboard import CHROMIUM, CHROMIUM_ARGS, _need_chromium, shots
from tests.check_support import AWS_KEY, check_settings, serving
from tests.factories import PASSWORD
from tests.web_support import build_world

pytestmark = pytest.mark.browser
__all__ = ["shots"]  # the screenshot folder fixture, shared with the dashboard test


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    _need_chromium()
    settings = check_settings(f"sqlite:///{tmp_path / 'sg.db'}")
    store = Store(settings.store.url)
    build_world(store)
    app = create_app(settings, store)
    app.state.draft_checker.pipeline()  # as `socialguide web` warms it up
    with serving(app) as base:
        yield base, store
    store.dispose()


def test_employee_checks_a_draft_and_sees_private_guidance(server, shots):
    from playwright.sync_api import sync_playwright

    base, store = server
    draft = (f"Release night! Deploy key {AWS_KEY} is on the wiki.\n"
             "Onsite at Contoso Bank for their migration to our platform.")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/check")
            assert "/login" in page.url
            page.fill("input[name=username]", "eve")
            page.fill("input[name=password]", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{base}/check")
            assert "keeps nothing of this draft" in page.locator("#privacy").inner_text()
            page.screenshot(path=str(shots / "check-01-empty.png"), full_page=True)

            page.fill("#draft", draft)
            page.select_option("select[name=platform]", "bluesky")
            page.click("#check-submit")
            page.wait_for_selector("#check-answer")
            assert page.locator("#check-summary").inner_text() == \
                "2 things worth a second look before you post."
            items = page.locator("li.advice-item")
            assert items.count() == 2
            first = items.nth(0)
            assert "password, key or token" in first.inner_text()
            assert first.locator("mark").inner_text() == "AKIA…F10E"
            assert "Take the key out" in first.locator(".suggestion").inner_text()
            marked = page.locator("#draft-marked mark")
            assert marked.count() == 2 and AWS_KEY not in page.locator("#draft-marked").inner_text()
            nda = page.locator("li.cat-confidential").filter(has_text="Drop the customer's name")
            assert "a customer" in nda.locator(".reworded").inner_text()
            # The draft stays in the box to edit.
            assert page.locator("#draft").input_value() == draft
            page.screenshot(path=str(shots / "check-02-answer.png"), full_page=True)

            page.fill("#draft", "Had a lovely time at the team picnic today")
            page.click("#check-submit")
            page.wait_for_selector("#check-answer.clear")
            assert page.locator("#check-summary").inner_text() == \
                "Nothing in the policy stands against this draft."
            page.screenshot(path=str(shots / "check-03-clear.png"), full_page=True)
        finally:
            browser.close()
    with store.session() as s:
        counts = {c.category: c.drafts for c in s.scalars(select(DraftCheckCountRow))}
    assert counts == {"*": 2, "credentials": 1, "confidential": 1}
    assert sorted(p.name for p in shots.glob("check-*.png")) == [
        "check-01-empty.png", "check-02-answer.png", "check-03-clear.png"]
