"""The demo's dashboard in real headless Chromium, for each role: what a new user sees right
after ``make demo``. ``SOCIALGUIDE_SCREENSHOTS=DIR`` keeps the screenshots."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from rich.console import Console
from sqlalchemy import func, select

from monitor.demo import DemoResult, demo_settings, run_demo
from monitor.store import Store
from monitor.store.schema import FlagRow, PersonRow, UserRow
from tests.browser.test_browser_dashboard import CHROMIUM, CHROMIUM_ARGS, _need_chromium, shots
from tests.live_server import serving

pytestmark = pytest.mark.browser
__all__ = ["shots"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store, DemoResult]]:
    _need_chromium()
    folder = tmp_path_factory.mktemp("tour") / "socialguide-demo"
    with open(os.devnull, "w") as sink:
        result = run_demo(folder, Console(file=sink))
    settings = demo_settings(folder)
    store = Store(settings.store.url)
    with serving(settings, store) as base:
        yield base, store, result
    store.dispose()


def _sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/flags")


def _count(page) -> int:
    text = page.locator("#result-count").inner_text()
    m = re.match(r"([\d,]+) flags? match", text)
    assert m, text
    return int(m.group(1).replace(",", ""))


def _visible_flags(store: Store, role: str, username: str) -> int:
    """What the role may see, counted straight from the store: live flags only."""
    with store.session() as s:
        live = FlagRow.status != "shadow"
        if role in ("compliance", "auditor"):
            return s.scalar(select(func.count(FlagRow.id)).where(live)) or 0
        user = s.scalars(select(UserRow).where(UserRow.username == username)).one()
        if role == "employee":
            return s.scalar(select(func.count(FlagRow.id))
                            .where(live, FlagRow.person_id == user.person_id)) or 0
        me = s.get(PersonRow, user.person_id)
        assert me is not None
        return s.scalar(select(func.count(FlagRow.id)).where(live, FlagRow.team == me.team)) or 0


def test_each_demo_user_sees_their_part_and_the_report_has_twelve_weeks(demo, shots):
    from playwright.sync_api import sync_playwright

    base, store, result = demo
    users = {u.role: u for u in result.users}
    assert set(users) == {"compliance", "manager", "employee", "auditor"}
    assert all(u.password for u in users.values())
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for n, role in enumerate(("compliance", "manager", "employee"), start=1):
                user = users[role]
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                _sign_in(page, base, user.username, user.password or "")
                seen = _count(page)
                assert seen == _visible_flags(store, role, user.username) and seen > 0, role
                # No shadow entry anywhere in the log's first page, for anyone.
                assert "shadow" not in page.locator("table.log tbody").inner_text()
                page.screenshot(path=str(shots / f"tour-{n}-{role}-log.png"), full_page=True)
                if role == "compliance":
                    page.click("table.log tbody tr:first-child a")
                    page.wait_for_load_state()
                    assert page.locator("#post-text").count() == 1
                    page.screenshot(path=str(shots / "tour-1-compliance-flag.png"),
                                    full_page=True)
                    page.goto(f"{base}/reports?since=12w")
                    assert page.locator("svg.chart").count() >= 2
                    weekly = page.locator("svg.chart").first.locator("text.total")
                    assert weekly.count() >= 10  # most of the twelve weeks have flags
                    assert page.locator("#changes tbody tr").count() >= 5
                    page.screenshot(path=str(shots / "tour-1-compliance-report.png"),
                                    full_page=True)
                    page.goto(f"{base}/flags?status=shadow")
                    assert _count(page) >= 1
                    page.screenshot(path=str(shots / "tour-1-compliance-shadow.png"),
                                    full_page=True)
                else:
                    assert page.goto(f"{base}/reports").status == 404
                    assert page.goto(f"{base}/flags?status=shadow").status in (200, 400)
                    if page.locator("#result-count").count():
                        assert _count(page) == 0
                page.context.close()
        finally:
            browser.close()
