"""A small organisation for fault tests, and the invariants every fault must leave standing.

Fake platforms and a fake Slack run on 127.0.0.1; a store holds consented accounts (and the
fakes also hold accounts nobody consented to, which must never be asked for). Posts carrying
:data:`LEAK` must each end up with exactly one flag and their urgent nudge posted once.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from monitor.collectors.registry import build_collectors
from monitor.config import Settings, settings_from_dict
from monitor.domain import utcnow
from monitor.guidance.outbox import DeliveryReport, deliver_due
from monitor.jobs.cycle import run_cycle
from monitor.jobs.report import CycleReport
from monitor.pipeline.factory import build_pipeline
from monitor.store import Store, repo
from monitor.store.schema import FlagRow, NudgeRow, PersonRow, PostRow
from tests.collectors.helpers import LEAK
from tests.fakes import reddit_api, x_api
from tests.fakes.bluesky_api import FakeBluesky
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.platform_base import FakePlatform
from tests.fakes.reddit_api import FakeReddit
from tests.fakes.rss_feed import FakeFeeds
from tests.fakes.slack_api import FakeSlackServer
from tests.fakes.x_api import FakeX

BOT_TOKEN = "xoxb-fault-test-token"
ENV = {"SG_FAULT_BOT_TOKEN": BOT_TOKEN, "X_BEARER_TOKEN": x_api.TOKEN,
       "REDDIT_CLIENT_ID": reddit_api.CLIENT_ID,
       "REDDIT_CLIENT_SECRET": reddit_api.CLIENT_SECRET}
FAKES = {"bluesky": FakeBluesky, "mastodon": FakeMastodon, "rss": FakeFeeds, "x": FakeX,
         "reddit": FakeReddit}
INTERVAL = timedelta(minutes=30)  # the platforms' default interval_minutes


def consent_handle(platform: str, name: str) -> str:
    """The handle an account is consented under (feeds are paths below the RSS base URL)."""
    return {"bluesky": f"{name}.bsky.social", "rss": f"feeds/{name}.xml"}.get(platform, name)


def fake_handle(platform: str, name: str) -> str:
    """The account's key on its fake server (what its request log names)."""
    return {"bluesky": f"{name}.bsky.social", "rss": f"{name}.xml"}.get(platform, name)


@dataclass
class FaultWorld:
    """Fakes, a store and an organisation; ``settings()`` points everything at the fakes."""

    store: Store
    tmp: Path
    platforms: tuple[str, ...]
    slack: FakeSlackServer
    fakes: dict[str, FakePlatform] = field(default_factory=dict)
    consented: dict[str, list[str]] = field(default_factory=dict)  # platform -> account names
    refused: dict[str, list[str]] = field(default_factory=dict)  # on the fake, never consented
    _pipeline: Any = None
    _seq: int = 0

    def start(self, latency: float = 0.0) -> FaultWorld:
        for p in self.platforms:
            self.fakes[p] = FAKES[p](latency=latency).start()  # type: ignore[abstract]
        return self

    def stop(self) -> None:
        for f in self.fakes.values():
            f.stop()

    def settings(self, **extra: Any) -> Settings:
        platforms: dict[str, Any] = {}
        for name in ("bluesky", "mastodon", "rss", "x", "reddit"):
            if name not in self.fakes:
                platforms[name] = {"enabled": False}
                continue
            url = self.fakes[name].base_url
            platforms[name] = {"enabled": True, "base_url": url, "timeout_seconds": 0.5,
                               "max_posts_per_account": 50}
            if name == "reddit":
                platforms[name]["auth_url"] = url
        data: dict[str, Any] = {
            "store": {"url": self.store.url},
            "platforms": platforms,
            "model": {"enabled": False},
            "scheduler": {"collect_workers": 4, "metrics_port": 0},
            "slack": {"enabled": True, "base_url": self.slack.base_url,
                      "bot_token_env": "SG_FAULT_BOT_TOKEN", "security_channel": "CSECURITY",
                      "timeout_seconds": 0.5, "rate_limit_max_wait_seconds": 1.0},
            "guidance": {"quiet_hours": {"start": "00:00", "end": "00:00"},
                         "weekly_budget": 1000, "grace_hours": 0},
        }
        for key, value in extra.items():
            data.setdefault(key, {}).update(value)
        return settings_from_dict(data, source="fault test")

    def config_file(self) -> Path:
        """The same settings as a TOML file, for ``socialguide`` subprocesses."""
        s = self.settings()
        lines = [f'[store]\nurl = "{self.store.url}"', "[model]\nenabled = false",
                 "[scheduler]\nmetrics_port = 0\ncollect_workers = 4",
                 f'[slack]\nenabled = true\nbase_url = "{self.slack.base_url}"\n'
                 'bot_token_env = "SG_FAULT_BOT_TOKEN"\nsecurity_channel = "CSECURITY"\n'
                 "timeout_seconds = 0.5\nrate_limit_max_wait_seconds = 1.0",
                 '[guidance]\nweekly_budget = 1000\ngrace_hours = 0\n[guidance.quiet_hours]\nstart = "00:00"\n'
                 'end = "00:00"']
        for name in ("bluesky", "mastodon", "rss", "x", "reddit"):
            ps = getattr(s.platforms, name)
            lines.append(f"[platforms.{name}]\nenabled = {str(ps.enabled).lower()}")
            if name in self.fakes:
                lines.append(f'base_url = "{ps.base_url}"\ntimeout_seconds = 0.5')
                if name == "reddit":
                    lines.append(f'auth_url = "{ps.base_url}"')
        path = self.tmp / "config.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    # --- the organisation -----------------------------------------------------------------

    def populate(self, accounts: int = 3, posts: int = 2) -> None:
        """People with Slack ids, ``accounts`` consented accounts per platform (each with
        ``posts`` posts, every other one leaking a key), and one account nobody consented to."""
        fake = self.slack.fake
        with self.store.session() as s:
            lead = PersonRow(email="lead@example.com", name="Lead", team="Ops",
                             slack_id="ULEAD")
            s.add(lead)
            s.flush()
            fake.add_user("ULEAD", "lead@example.com")
            for p in self.platforms:
                for i in range(accounts):
                    name = f"{p[:2]}{i}"
                    email = f"{name}@example.com"
                    person = repo.person_by_email(s, email)
                    if person is None:
                        person = PersonRow(email=email, name=name, team="Ops",
                                           manager_id=lead.id, slack_id=f"U{name.upper()}")
                        s.add(person)
                        s.flush()
                        fake.add_user(f"U{name.upper()}", email)
                    repo.add_account_with_consent(s, person, p, consent_handle(p, name),
                                                  "2026.1", "0" * 64, "HR-1", "test")
                    self.consented.setdefault(p, []).append(name)
                self.refused[p] = [f"{p[:2]}nobody"]
        for p in self.platforms:
            for name in self.refused[p]:
                self.fakes[p].add_post(fake_handle(p, name), f"never to be read {LEAK}")
        self.add_posts(posts)

    def add_posts(self, n: int = 1, leak_every: int = 2) -> None:
        """``n`` new posts on every consented account; every ``leak_every``-th leaks a key."""
        for p in self.platforms:
            for name in self.consented[p]:
                for _ in range(n):
                    self._seq += 1
                    k = self._seq
                    text = (f"deploy key {LEAK} number {k}" if k % leak_every == 0
                            else f"a quiet day, number {k}")
                    self.fakes[p].add_post(fake_handle(p, name), text)

    # --- running ------------------------------------------------------------------------

    def pipeline(self, settings: Settings) -> Any:
        if self._pipeline is None:
            self._pipeline = build_pipeline(settings)
        return self._pipeline

    def cycle(self, now: datetime | None = None, settings: Settings | None = None,
              store: Store | None = None) -> CycleReport:
        settings = settings or self.settings()
        return run_cycle(store or self.store, settings, self.pipeline(settings),
                         build_collectors(settings), now)

    def deliver(self, now: datetime | None = None) -> DeliveryReport:
        from monitor.slack.notifier import build_notifier

        settings = self.settings()
        return deliver_due(self.store, build_notifier(settings), settings, now or utcnow())

    def drain(self, start: datetime | None = None, rounds: int = 12,
              settle: float = 1.0) -> datetime:
        """Deliver until the outbox holds nothing due, moving the clock past every backoff
        (and past the outbox's "sending" lease, so a send cut short is reconciled).

        The clock jumps, but a request Slack answered too slowly still lands in real time:
        ``settle`` seconds between rounds stand for the outbox's real backoff (30 s and more
        after a timeout), which outlasts such an answer."""
        now = start or utcnow()
        for _ in range(rounds):
            now += timedelta(minutes=61)
            time.sleep(settle)
            self.deliver(now)
            if not open_nudges(self.store):
                break
        return now


# --- the invariants ---------------------------------------------------------------------------


def leaking_posts(world: FaultWorld) -> set[tuple[str, str]]:
    """(platform, fake post id) of every consented account's post that leaks a key."""
    out = set()
    for p in world.platforms:
        for name in world.consented[p]:
            for post in world.fakes[p].posts.get(fake_handle(p, name).lower(), []):
                if LEAK in post.text:
                    out.add((p, post.id))
    return out


def stored_posts(store: Store) -> Counter[str]:
    with store.session() as s:
        return Counter(s.scalars(select(PostRow.platform)).all())


def open_nudges(store: Store) -> int:
    with store.session() as s:
        return s.scalar(select(func.count(NudgeRow.id)).where(
            NudgeRow.status.in_(("pending", "sending")))) or 0


def slack_keys(world: FaultWorld) -> Counter[str]:
    """How often each nudge's idempotency key was posted to the fake Slack."""
    keys: Counter[str] = Counter()
    for m in world.slack.fake.posted():
        meta = m.get("metadata") or {}
        if isinstance(meta, str):
            meta = json.loads(meta)
        key = (meta.get("event_payload") or {}).get("idempotency_key")
        if key:
            keys[key] += 1
    return keys


def assert_consent_kept(world: FaultWorld) -> None:
    """No request for an account without consent, and nothing of one stored."""
    for p in world.platforms:
        for name in world.refused[p]:
            assert world.fakes[p].requests_for(fake_handle(p, name)) == [], (p, name)
    with world.store.session() as s:
        authors = set(s.scalars(select(PostRow.author)).all())
    assert not any(a and "nobody" in a for a in authors), authors


def assert_no_duplicates(world: FaultWorld) -> None:
    """At most one flag per post version and one Slack message per nudge."""
    with world.store.session() as s:
        per_post = Counter(s.scalars(select(FlagRow.post_id)).all())
        posts = Counter(s.execute(select(PostRow.platform, PostRow.post_id)).all())
    assert all(n == 1 for n in per_post.values()), per_post
    assert all(n == 1 for n in posts.values()), posts
    doubled = {k: n for k, n in slack_keys(world).items() if n > 1}
    assert doubled == {}, f"nudges posted twice: {doubled}"


def assert_nothing_lost(world: FaultWorld) -> None:
    """Every consented post stored and every leak flagged once; every nudge sent once."""
    expected = Counter({p: sum(len(world.fakes[p].posts.get(fake_handle(p, n).lower(), []))
                               for n in world.consented[p]) for p in world.platforms})
    assert stored_posts(world.store) == expected
    with world.store.session() as s:
        flagged = set(s.execute(
            select(PostRow.platform, PostRow.post_id)
            .join(FlagRow, FlagRow.post_id == PostRow.id)).all())
        nudges = s.execute(select(NudgeRow.idempotency_key, NudgeRow.status)).all()
    leaks = leaking_posts(world)
    got = {(p, _bare(p, pid)) for p, pid in flagged}
    assert got == leaks, (sorted(got - leaks)[:5], sorted(leaks - got)[:5])
    assert nudges, "no nudge was planned"
    assert {status for _, status in nudges} == {"sent"}, Counter(st for _, st in nudges)
    posted = slack_keys(world)
    assert {key for key, _ in nudges} == set(posted)
    assert all(n == 1 for n in posted.values())


def assert_invariants(world: FaultWorld) -> None:
    """All of the above: the end state after the faults have passed."""
    assert_consent_kept(world)
    assert_no_duplicates(world)
    assert_nothing_lost(world)


def _bare(platform: str, post_id: str) -> str:
    """The fake's post id from the stored one (Bluesky ids are URIs, feeds may prefix)."""
    if platform == "bluesky":
        return post_id.rsplit("/", 1)[-1]
    if platform == "reddit":
        return post_id.removeprefix("t3_").removeprefix("t1_")
    if platform == "rss":
        return post_id.rsplit(":", 1)[-1]
    return post_id
