"""In real headless Chromium: a post's javascript: link is inert text, a cookie copied before
sign-out is refused afterwards, and repeated wrong passwords lock the account with a message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.config import settings_from_dict
from monitor.store import Store
from monitor.store.schema import FlagRow, PostRow
from tests.browser.test_browser_dashboard import CHROMIUM, CHROMIUM_ARGS, _need_chromium
from tests.factories import PASSWORD
from tests.live_server import serving
from tests.web_support import build_world

pytestmark = pytest.mark.browser
EVIL = "javascript:document.title='pwned'"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Store, dict[str, int]]]:
    _need_chromium()
    url = f"sqlite:///{tmp_path / 'sg.db'}"
    store = Store(url)
    world = build_world(store)
    with store.session() as s:
        for key, link in (("eve", EVIL), ("ed", "https://bsky.app/profile/ed/post/1")):
            post_id = s.scalar(select(FlagRow.post_id).where(FlagRow.id == world.flags[key]))
            s.get(PostRow, post_id).url = link
    with serving(settings_from_dict({"store": {"url": url}}), store) as base:
        yield base, store, world.flags
    store.dispose()


def test_links_sign_out_and_lockout_in_a_real_browser(server):
    from playwright.sync_api import sync_playwright

    base, _store, flags = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context()
            page = ctx.new_page()
            page.goto(f"{base}/login")
            page.fill("input[name=username]", "cora")
            page.fill("input[name=password]", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{base}/flags")

            page.goto(f"{base}/flags/{flags['eve']}")
            assert page.locator("#post-url a").count() == 0
            assert EVIL in page.locator("#post-url").inner_text()
            page.locator("#post-url").click()  # clicking the text runs nothing
            assert page.title() != "pwned"
            page.goto(f"{base}/flags/{flags['ed']}")
            assert page.locator("#post-url a").get_attribute("href") == \
                "https://bsky.app/profile/ed/post/1"

            stolen = ctx.cookies()
            assert any(c["name"] == "sg_session" for c in stolen)
            page.click("form.signout button[type=submit]")
            page.wait_for_url("**/login")
            replay = browser.new_context()
            replay.add_cookies(stolen)  # the cookie as it was before signing out
            other = replay.new_page()
            other.goto(f"{base}/flags")
            assert "/login" in other.url

            for _ in range(5):
                other.goto(f"{base}/login")
                other.fill("input[name=username]", "audrey")
                other.fill("input[name=password]", "not the password")
                other.click("main button[type=submit]")
                other.wait_for_load_state()
            other.fill("input[name=username]", "audrey")
            other.fill("input[name=password]", PASSWORD)
            other.click("main button[type=submit]")
            other.wait_for_load_state()
            assert "Too many failed sign-ins for this account" in \
                other.locator("p.error").inner_text()
            assert "/login" in other.url
        finally:
            browser.close()
