"""Proof of ownership: an account connected in Slack is collected only once the code we gave
its owner shows up in its public profile, read from a fake platform by the real client."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.collectors.registry import build_collectors
from monitor.config import Settings
from monitor.jobs.cycle import run_cycle
from monitor.pipeline.factory import build_pipeline
from monitor.slack.app import SocialGuideApp
from monitor.store import Store, repo
from monitor.store.schema import AccountRow, AuditEventRow, ConsentRow, PostRow
from tests.fakes.bluesky_api import FakeBluesky
from tests.fakes.slack_api import FakeSlackServer
from tests.slack.conftest import MONDAY_10, Org, button, command, sg_app, submit_view

CODE = re.compile(r"sg-[a-z0-9]{8}")
AGREE = {"sg_consent_ack": {"agree": {"selected_options": [{"value": "agree"}]}}}


@pytest.fixture
def bluesky() -> Iterator[FakeBluesky]:
    with FakeBluesky() as fake:
        # Alice's account (from the org fixture) was imported by an operator: verified.
        fake.add_post("alice.bsky.social", "alice was here")
        yield fake  # type: ignore[misc]


@pytest.fixture
def settings(slack_settings: Settings, bluesky: FakeBluesky) -> Settings:
    slack_settings.platforms.bluesky.base_url = bluesky.base_url
    slack_settings.platforms.bluesky.timeout_seconds = 1.0
    slack_settings.model.enabled = False  # the rules are enough to collect and scan
    return slack_settings


def connect(app: SocialGuideApp, fake: FakeSlackServer, user: str, handle: str) -> str:
    """Run ``/socialguide connect bluesky <handle>`` and confirm; returns the code shown."""
    command(app, user, f"connect bluesky {handle}")
    view = fake.fake.views[-1]["view"]
    resp = submit_view(app, user, view, AGREE)
    assert resp.status == 200 and '"update"' in resp.body
    codes = CODE.findall(resp.body)
    assert len(set(codes)) == 1, resp.body
    return codes[0]


def account(store: Store, handle: str) -> AccountRow:
    with store.session() as s:
        acc = s.scalar(select(AccountRow).where(AccountRow.handle == handle))
        assert acc is not None
        return acc


@pytest.fixture
def collected(fresh_store: Store, settings: Settings) -> Callable[[], set[str]]:
    """Run one real collection cycle (bluesky only); say whose posts are stored."""
    pipeline, collectors = build_pipeline(settings), build_collectors(settings)

    def cycle() -> set[str]:
        run_cycle(fresh_store, settings, pipeline, collectors, platforms=["bluesky"])
        with fresh_store.session() as s:
            return {p.author for p in s.scalars(select(PostRow)) if p.author}
    return cycle


def home_notice(fake: FakeSlackServer) -> str:
    view = [v for v in fake.fake.views if v["kind"] == "publish"][-1]["view"]
    return view["blocks"][0]["elements"][0]["text"]


def audit_actions(store: Store, account_id: int) -> list[str]:
    with store.session() as s:
        return [e.action for e in s.scalars(select(AuditEventRow).where(
            AuditEventRow.subject_type == "account",
            AuditEventRow.subject_id == str(account_id)).order_by(AuditEventRow.id))]


def test_connect_then_verify_with_the_code_in_the_profile(
    fresh_store: Store, settings: Settings, fake_slack: FakeSlackServer, org: Org,
    bluesky: FakeBluesky, collected: Callable[[], set[str]], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    bluesky.add_post("bob.bsky.social", "first post from bob")
    app = sg_app(settings, fresh_store, [MONDAY_10])
    code = connect(app, fake_slack, "UBOB", "bob.bsky.social")

    # Recorded with consent, but unverified: only a hash of the code is stored.
    acc = account(fresh_store, "bob.bsky.social")
    assert acc.owner_id == org.bob and acc.verified_at is None
    assert acc.verification_code_hash and code not in acc.verification_code_hash
    # The DM keeps the code and offers Verify; App Home says nothing is collected yet.
    dm = fake_slack.fake.posted("DUBOB")[-1]
    assert code in dm["text"] and "profile description" in dm["text"]
    assert [e["action_id"] for b in dm["blocks"] if b["type"] == "actions"
            for e in b["elements"]] == ["sg_verify", "sg_new_code"]
    command(app, "UBOB", "status")
    home = [v for v in fake_slack.fake.views if v["kind"] == "publish"][-1]["view"]
    assert "Not verified yet" in str(home["blocks"])

    # Not collected: the platform is never even asked for bob's posts.
    assert collected() == {"alice.bsky.social"}
    assert not [r for r in bluesky.requests if r.account == "bob.bsky.social"]

    # Verify with the code absent: a clear message, still not collected.
    bluesky.bios["bob.bsky.social"] = "I build things"
    button(app, "UBOB", "sg_verify", str(acc.id))
    assert "could not find your code" in home_notice(fake_slack)
    assert account(fresh_store, "bob.bsky.social").verified_at is None
    assert collected() == {"alice.bsky.social"}

    # The code in the profile: verified, then collected.
    bluesky.bios["bob.bsky.social"] = f"I build things. {code.upper()}"
    resp = command(app, "UBOB", "verify bluesky bob.bsky.social")
    assert "Verified" in resp.body and "remove the code" in resp.body
    acc = account(fresh_store, "bob.bsky.social")
    assert acc.verified_at is not None and acc.verification_method == "profile_code"
    assert acc.verification_code_hash is None
    assert collected() == {"alice.bsky.social", "bob.bsky.social"}
    # The code may go now: collection does not depend on it any more.
    bluesky.bios["bob.bsky.social"] = "I build things"
    bluesky.add_post("bob.bsky.social", "second post")
    collected()
    with fresh_store.session() as s:
        assert len(s.scalars(select(PostRow).where(PostRow.author == "bob.bsky.social"))
                   .all()) == 2

    assert audit_actions(fresh_store, acc.id) == [
        "consent.given", "account.verification_code", "account.verification_failed",
        "account.verified"]
    with fresh_store.session() as s:
        details = [e.details for e in s.scalars(select(AuditEventRow))]
    assert code not in str(details) and code not in caplog.text
    assert code.upper() not in caplog.text


def test_someone_elses_handle_cannot_be_verified(
    fresh_store: Store, settings: Settings, fake_slack: FakeSlackServer, org: Org,
    bluesky: FakeBluesky, collected: Callable[[], set[str]],
) -> None:
    bluesky.add_post("carol.bsky.social", "carol's post")
    app = sg_app(settings, fresh_store, [MONDAY_10])
    # Bob claims Carol's handle (nobody has connected it): he gets a code, but Carol's
    # profile will never show it, so the claim stays unverified and nothing is collected.
    bob_code = connect(app, fake_slack, "UBOB", "carol.bsky.social")
    acc = account(fresh_store, "carol.bsky.social")
    bluesky.bios["carol.bsky.social"] = "Carol. Codes in here are mine: sg-aaaaaaaa"
    button(app, "UBOB", "sg_verify", str(acc.id))
    assert "could not find your code" in home_notice(fake_slack)
    assert collected() == {"alice.bsky.social"}

    # Nor can Bob verify (or get a code for) an account that is not his.
    button(app, "UBOB", "sg_verify", str(org.alice_account))
    assert "not one of yours" in home_notice(fake_slack)
    button(app, "UBOB", "sg_new_code", str(org.alice_account))
    assert "not one of yours" in home_notice(fake_slack)

    # The real owner (here Otto) is not blocked by Bob's unproven claim: it is replaced.
    otto_code = connect(app, fake_slack, "UOTHER", "carol.bsky.social")
    assert otto_code != bob_code
    acc = account(fresh_store, "carol.bsky.social")
    with fresh_store.session() as s:
        consents = s.scalars(select(ConsentRow).where(ConsentRow.account_id == acc.id)
                             .order_by(ConsentRow.id)).all()
        assert [c.withdrawn_at is None for c in consents] == [False, True]
    assert acc.owner_id == org.otto
    # Bob's code in the profile proves nothing for Otto's claim (and Bob's button is refused).
    bluesky.bios["carol.bsky.social"] = f"Carol {bob_code}"
    button(app, "UOTHER", "sg_verify", str(acc.id))
    assert "could not find your code" in home_notice(fake_slack)
    button(app, "UBOB", "sg_verify", str(acc.id))
    assert "not one of yours" in home_notice(fake_slack)
    assert collected() == {"alice.bsky.social"}
    # Otto's own code verifies; from then on nobody else can claim it.
    bluesky.bios["carol.bsky.social"] = f"Carol {otto_code}"
    button(app, "UOTHER", "sg_verify", str(acc.id))
    assert "Verified" in home_notice(fake_slack)
    assert collected() == {"alice.bsky.social", "carol.bsky.social"}
    command(app, "UBOB", "connect bluesky carol.bsky.social")
    resp = submit_view(app, "UBOB", fake_slack.fake.views[-1]["view"], AGREE)
    assert "someone else" in resp.body
    assert account(fresh_store, "carol.bsky.social").owner_id == org.otto


def test_a_new_code_replaces_the_old_one(
    fresh_store: Store, settings: Settings, fake_slack: FakeSlackServer, org: Org,
    bluesky: FakeBluesky,
) -> None:
    bluesky.add_post("bob.bsky.social", "hello")
    app = sg_app(settings, fresh_store, [MONDAY_10])
    old = connect(app, fake_slack, "UBOB", "bob.bsky.social")
    acc = account(fresh_store, "bob.bsky.social")
    button(app, "UBOB", "sg_new_code", str(acc.id))
    (new,) = CODE.findall(home_notice(fake_slack))
    assert new != old
    bluesky.bios["bob.bsky.social"] = old
    button(app, "UBOB", "sg_verify", str(acc.id))
    assert account(fresh_store, "bob.bsky.social").verified_at is None
    bluesky.bios["bob.bsky.social"] = new
    button(app, "UBOB", "sg_verify", str(acc.id))
    assert account(fresh_store, "bob.bsky.social").verified_at is not None


def test_an_unreadable_profile_is_a_clear_answer(
    fresh_store: Store, settings: Settings, fake_slack: FakeSlackServer, org: Org,
    bluesky: FakeBluesky,
) -> None:
    app = sg_app(settings, fresh_store, [MONDAY_10])
    connect(app, fake_slack, "UBOB", "ghost.bsky.social")  # no such account on the platform
    resp = command(app, "UBOB", "verify bluesky ghost.bsky.social")
    assert "no such Bluesky account" in resp.body
    assert account(fresh_store, "ghost.bsky.social").verified_at is None


def test_accounts_from_an_hr_import_are_verified_by_it(
    fresh_store: Store, settings: Settings, org: Org,
) -> None:
    with fresh_store.session() as s:
        acc = s.get(AccountRow, org.alice_account)
        assert acc is not None
        assert acc.verified_at is not None and acc.verification_method == "hr_import"
        assert [a.handle for a in repo.consented_accounts(s)] == ["alice.bsky.social"]
        # An account without proof is never listed for collection, consent or not.
        acc.verified_at = None
        s.flush()
        assert repo.consented_accounts(s) == []


def test_the_migration_vouches_for_imported_accounts_only(tmp_path: Path) -> None:
    """Before 0004, Slack consents carry a ``slack:`` reference: those owners must prove it."""
    from sqlalchemy import text

    store = Store(f"sqlite:///{tmp_path / 'old.db'}", auto_upgrade=False)
    store.upgrade("0002_compliance")
    store.upgrade("0003_posts_text")
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO people (id, email, timezone, created_at, updated_at) "
                          "VALUES (1, 'a@example.com', 'UTC', '2026-01-01', '2026-01-01')"))
        for i, ref in ((1, "HR-7"), (2, "slack:UALICE"), (3, None)):
            conn.execute(text(
                "INSERT INTO accounts (id, owner_id, platform, handle, created_at) "
                f"VALUES ({i}, 1, 'bluesky', 'h{i}.bsky.social', '2026-01-0{i} 00:00:00')"))
            conn.execute(text(
                "INSERT INTO consents (account_id, policy_version, notice_hash, reference, "
                "given_at) VALUES (:a, '1', 'h', :r, '2026-01-01 00:00:00')"),
                {"a": i, "r": ref})
    store.upgrade()
    assert store.current_revisions() == store.head_revisions()
    with store.session() as s:
        rows = {a.handle: (a.verification_method, a.verified_at is not None)
                for a in s.scalars(select(AccountRow))}
        assert rows == {"h1.bsky.social": ("hr_import", True),
                        "h2.bsky.social": (None, False),
                        "h3.bsky.social": ("hr_import", True)}
        assert [a.handle for a in repo.consented_accounts(s)] == ["h1.bsky.social",
                                                                  "h3.bsky.social"]
    store.dispose()
