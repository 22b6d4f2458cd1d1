"""Every message template is kind, and digests keep raw text and names out unless allowed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from monitor.accounts.notice import build_notice
from monitor.config import Settings, settings_from_dict
from monitor.domain import CATEGORIES
from monitor.guidance import templates
from monitor.guidance.digest import send_digests
from monitor.store import Store
from monitor.store.schema import NudgeRow
from tests.slack.conftest import MONDAY_10, Org, make_flag

ACCUSATORY = re.compile(
    r"\b(violat\w*|you must|disciplin\w*|offender|caught|warning|breach\w*|infring\w*|"
    r"punish\w*|misconduct|reported you|guilty|wrongdoing|unacceptable|prohibited)\b",
    re.IGNORECASE,
)


def all_messages(settings: Settings) -> list[str]:
    out = []
    for c in CATEGORIES:
        for urgent in (False, True):
            out.append("\n".join(templates.author_message(
                settings, c, "QUOTE", "", "4.2", "bluesky", urgent)))
        out.append("\n".join(templates.manager_message(settings, c, "4.2", "team member #1",
                                                       None)))
        out.append("\n".join(templates.escalation_message(settings, 1, c, "author", "x")))
    out.append("\n".join(templates.digest_message(
        settings, "Platform", {c: 1 for c in CATEGORIES}, 3, 8, [])))
    out.append(build_notice(settings, "bluesky", "a.bsky.social"))
    return out


def test_no_template_uses_accusatory_wording(settings: Settings) -> None:
    texts = all_messages(settings)
    assert len(texts) > 30
    for text in texts:
        assert not ACCUSATORY.search(text), ACCUSATORY.search(text)
    # The detector itself works (so the test can fail).
    assert ACCUSATORY.search("This post violated the policy; you must delete it.")


def test_every_category_has_its_own_words_and_training_link() -> None:
    s = settings_from_dict({"guidance": {"training_links": {
        "credentials": "https://intranet.example/training/secrets"}}})
    for c in CATEGORIES:
        assert c in templates.CATEGORY_LABELS and c in templates.TALKING_POINTS
        _, body = templates.author_message(s, c, "q", "", None, "x", False)
        want = ("https://intranet.example/training/secrets" if c == "credentials"
                else s.guidance.training_url)
        assert want in body


def test_manager_note_has_no_post_text(settings: Settings) -> None:
    _, body = templates.manager_message(settings, "pii", "4.2", "team member #7", None)
    assert "team member #7" in body and ">" not in body


def _digest_bodies(store: Store) -> list[str]:
    with store.session() as s:
        return [n.body for n in s.query(NudgeRow).filter_by(kind="digest")]


def test_digest_has_counts_share_and_no_names_or_text_by_default(
    fresh_store: Store, slack_settings: Settings, org: Org
) -> None:
    make_flag(fresh_store, slack_settings, org.alice, MONDAY_10 - timedelta(days=2))
    make_flag(fresh_store, slack_settings, org.bob, MONDAY_10 - timedelta(days=1),
              category="offensive", text="what an idiot take from the panel, honestly wow")
    r = send_digests(fresh_store, slack_settings, MONDAY_10)  # a Monday, the default day
    assert r.queued == 1 and r.managers == [org.mara]  # Otto manages nobody
    (body,) = _digest_bodies(fresh_store)
    assert "2 posts" in body and "(pii): 1" in body and "(offensive): 1" in body
    assert "% were resolved by their authors" in body and "Talking points" in body
    for secret in ("Alice", "Bob", "alice@", "555", "idiot"):
        assert secret not in body
    assert send_digests(fresh_store, slack_settings, MONDAY_10).already == 1  # idempotent
    assert send_digests(fresh_store, slack_settings, MONDAY_10 + timedelta(days=1)).queued == 0


def test_digest_shows_text_only_for_allowed_categories(
    fresh_store: Store, tmp_db_url: str, org: Org
) -> None:
    s = settings_from_dict({"store": {"url": tmp_db_url},
                            "guidance": {"raw_text_in_digests": ["offensive"]}})
    make_flag(fresh_store, s, org.alice, MONDAY_10 - timedelta(days=2))
    make_flag(fresh_store, s, org.bob, MONDAY_10 - timedelta(days=1), category="offensive",
              text="what an idiot take from the panel, honestly wow")
    send_digests(fresh_store, s, MONDAY_10)
    (body,) = _digest_bodies(fresh_store)
    assert "idiot" in body and "Bob Builder" in body
    assert "555" not in body and "Alice" not in body


@pytest.mark.parametrize("category", CATEGORIES)
def test_author_nudge_quotes_only_the_span(category: str, settings: Settings) -> None:
    _, body = templates.author_message(settings, category, "the span", "Try this.", "2.1",
                                       "mastodon", category == "credentials")
    assert "> the span" in body and "Try this." in body and "2.1" in body
