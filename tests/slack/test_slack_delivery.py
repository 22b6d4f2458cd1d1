"""The outbox over the real slack-sdk against a fake Slack: author first, retries, no doubles."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest

from monitor.config import Settings
from monitor.guidance.outbox import deliver_due
from monitor.store import Store
from monitor.store.schema import NudgeRow, PersonRow
from tests.fakes.slack_api import FakeSlackServer
from tests.slack.conftest import MONDAY_10, Org, make_flag, notifier_for


class Crash(BaseException):
    """Stands in for the process dying right after Slack accepted the message."""


class CrashAfterSend:
    def __init__(self, inner):
        self.inner = inner

    def send(self, nudge, recipient):
        self.inner.send(nudge, recipient)
        raise Crash()


def nudges(store: Store) -> list[NudgeRow]:
    with store.session() as s:
        return list(s.query(NudgeRow).order_by(NudgeRow.id))


def by_key(store: Store, key: str) -> NudgeRow:
    with store.session() as s:
        row = s.query(NudgeRow).filter_by(idempotency_key=key).one()
        return row


def test_author_first_then_manager_after_grace(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org
) -> None:
    fid = make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    n = notifier_for(slack_settings)
    report = deliver_due(fresh_store, n, slack_settings, MONDAY_10)
    assert report.sent == 1
    dm = fake_slack.fake.posted("DUALICE")
    assert len(dm) == 1 and fake_slack.fake.posted("DUMARA") == []
    msg = dm[0]
    assert msg["metadata"]["event_payload"]["idempotency_key"] == f"flag:{fid}:author"
    buttons = [e for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == [
        "sg_author_handled", "sg_author_fine", "sg_author_ask"]
    assert {b["value"] for b in buttons} == {str(fid)}
    text = msg["blocks"][0]["text"]["text"]
    assert "555 0100" in text and "4.2" in text and "training" in text.lower()
    # Still inside the grace window: the manager hears nothing.
    assert deliver_due(fresh_store, n, slack_settings, MONDAY_10 + timedelta(hours=23)).sent == 0
    assert fake_slack.fake.posted("DUMARA") == []
    # After it: a coaching note, with talking points but without the post's text or a name.
    report = deliver_due(fresh_store, n, slack_settings, MONDAY_10 + timedelta(hours=24, minutes=1))
    assert report.sent == 1
    (note,) = fake_slack.fake.posted("DUMARA")
    body = note["blocks"][0]["text"]["text"]
    assert "Talking points" in body and "555 0100" not in body and "Alice" not in body
    actions = [e["action_id"] for b in note["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert actions == ["sg_manager_talked", "sg_manager_ask"]
    # The Slack id found by email is kept for next time.
    with fresh_store.session() as s:
        assert s.get(PersonRow, org.alice).slack_id == "UALICE"


def test_grace_window_starts_when_the_author_is_told(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org
) -> None:
    with fresh_store.session() as s:
        s.get(PersonRow, org.alice).timezone = "Asia/Tokyo"  # 19:00 there: quiet hours
    make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    n = notifier_for(slack_settings)
    r = deliver_due(fresh_store, n, slack_settings, MONDAY_10)
    assert r.sent == 0 and r.deferred == 1
    # Tokyo's 08:00 is 23:00 UTC: the author is told then...
    assert deliver_due(fresh_store, n, slack_settings, MONDAY_10 + timedelta(hours=13)).sent == 1
    # ...so 25 hours after the post the manager must still wait (grace counts from 23:00).
    r = deliver_due(fresh_store, n, slack_settings, MONDAY_10 + timedelta(hours=25))
    assert r.sent == 0 and fake_slack.fake.posted("DUMARA") == []
    # Grace ends at 23:00 UTC on Tuesday, inside the manager's own quiet hours (UTC):
    # the note waits for their morning.
    r = deliver_due(fresh_store, n, slack_settings, MONDAY_10 + timedelta(hours=37, minutes=1))
    assert r.sent == 0 and r.deferred == 1
    r = deliver_due(fresh_store, n, slack_settings, MONDAY_10 + timedelta(hours=46, minutes=1))
    assert r.sent == 1 and len(fake_slack.fake.posted("DUMARA")) == 1


def test_urgent_credentials_go_at_once_even_in_quiet_hours(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org
) -> None:
    night = MONDAY_10.replace(hour=23)
    make_flag(fresh_store, slack_settings, org.alice, night, category="credentials",
              text="deploy key AKIAABCDEFGHIJKLMNOP works, enjoy the weekend crew")
    r = deliver_due(fresh_store, notifier_for(slack_settings), slack_settings, night)
    assert r.sent == 2
    (dm,) = fake_slack.fake.posted("DUALICE")
    assert "rotate" in dm["blocks"][0]["text"]["text"].lower()
    (sec,) = fake_slack.fake.posted("CSECURITY")
    assert "AKIA" not in sec["text"] + sec["blocks"][0]["text"]["text"]


def test_no_duplicate_message_across_a_crash_between_send_and_mark_sent(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org
) -> None:
    make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    real = notifier_for(slack_settings)
    with pytest.raises(Crash):
        deliver_due(fresh_store, CrashAfterSend(real), slack_settings, MONDAY_10)
    assert len(fake_slack.fake.posted("DUALICE")) == 1
    (row,) = [x for x in nudges(fresh_store) if x.role == "author"]
    assert row.status == "sending"
    # While its lease runs, another run leaves it alone.
    assert deliver_due(fresh_store, real, slack_settings, MONDAY_10 + timedelta(minutes=1)).sent == 0
    r = deliver_due(fresh_store, real, slack_settings, MONDAY_10 + timedelta(minutes=10))
    assert r.reconciled == 1 and r.sent == 1
    posted = fake_slack.fake.posted("DUALICE")
    assert len(posted) == 1, "the message must not be posted twice"
    assert len(fake_slack.fake.calls_to("chat.postMessage")) == 1
    row = by_key(fresh_store, row.idempotency_key)
    assert row.status == "sent" and row.external_ref == f"DUALICE:{posted[0]['ts']}"


def test_timeout_after_slack_accepted_does_not_post_twice(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org
) -> None:
    make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    fake_slack.fake.fail("chat.postMessage", delay=1.6)  # client timeout is 1 s
    n = notifier_for(slack_settings)
    r = deliver_due(fresh_store, n, slack_settings, MONDAY_10)
    assert r.sent == 0 and r.failed == 1
    row = [x for x in nudges(fresh_store) if x.role == "author"][0]
    assert row.status == "pending" and "did not answer" in (row.last_error or "")
    assert row.not_before > MONDAY_10
    for _ in range(50):  # the slow answer still lands on Slack's side
        if fake_slack.fake.posted("DUALICE"):
            break
        time.sleep(0.05)
    r = deliver_due(fresh_store, n, slack_settings, MONDAY_10 + timedelta(hours=2))
    assert r.sent == 1
    assert len(fake_slack.fake.posted("DUALICE")) == 1


def test_long_retry_after_is_honoured_by_the_outbox(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org
) -> None:
    make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    fake_slack.fake.fail("chat.postMessage", status=429, retry_after=120)
    r = deliver_due(fresh_store, notifier_for(slack_settings), slack_settings, MONDAY_10)
    assert r.failed == 1 and fake_slack.fake.posted() == []
    row = [x for x in nudges(fresh_store) if x.role == "author"][0]
    assert row.status == "pending" and "rate limit" in row.last_error
    assert row.not_before >= MONDAY_10 + timedelta(seconds=120)
    # Not due before then.
    n = notifier_for(slack_settings)
    assert deliver_due(fresh_store, n, slack_settings, MONDAY_10 + timedelta(seconds=60)).sent == 0
    assert deliver_due(fresh_store, n, slack_settings, MONDAY_10 + timedelta(minutes=5)).sent == 1


def test_short_retry_after_is_waited_out_by_the_client(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org
) -> None:
    make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    fake_slack.fake.fail("chat.postMessage", status=429, retry_after=0)
    r = deliver_due(fresh_store, notifier_for(slack_settings), slack_settings, MONDAY_10)
    assert r.sent == 1
    assert len(fake_slack.fake.calls_to("chat.postMessage")) == 2
    assert len(fake_slack.fake.posted("DUALICE")) == 1


def test_server_errors_are_retried_then_backed_off(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org
) -> None:
    make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    fake_slack.fake.fail("chat.postMessage", times=2, status=500)
    n = notifier_for(slack_settings)
    r = deliver_due(fresh_store, n, slack_settings, MONDAY_10)
    assert r.failed == 1 and len(fake_slack.fake.calls_to("chat.postMessage")) == 2
    row = [x for x in nudges(fresh_store) if x.role == "author"][0]
    assert row.status == "pending" and row.attempts == 1
    assert row.not_before >= MONDAY_10 + timedelta(seconds=20)  # backoff with jitter
    assert deliver_due(fresh_store, n, slack_settings, MONDAY_10 + timedelta(minutes=5)).sent == 1


def test_unknown_user_stays_in_outbox_then_is_dead_lettered_visibly(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org
) -> None:
    with fresh_store.session() as s:
        s.get(PersonRow, org.alice).email = "alice@elsewhere.example"
    make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    n = notifier_for(slack_settings)
    now = MONDAY_10
    for attempt in range(1, slack_settings.guidance.max_attempts + 1):
        deliver_due(fresh_store, n, slack_settings, now)
        row = by_key(fresh_store, [x for x in nudges(fresh_store)
                                   if x.role == "author"][0].idempotency_key)
        assert row.attempts == attempt
        assert "users_not_found" in row.last_error and "people.slack_id" in row.last_error
        if attempt < slack_settings.guidance.max_attempts:
            assert row.status == "pending"
            assert row.not_before >= now + timedelta(hours=1)
        now = row.not_before + timedelta(seconds=1)
    assert row.status == "dead"  # dead-lettered, still in the outbox for compliance
    assert fake_slack.fake.posted("DUALICE") == []


def test_deleted_channel_is_a_clear_error_and_nothing_is_lost(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org
) -> None:
    fake_slack.fake.deleted_channels.add("CSECURITY")
    make_flag(fresh_store, slack_settings, org.alice, MONDAY_10, category="credentials",
              text="my token is ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ok")
    r = deliver_due(fresh_store, notifier_for(slack_settings), slack_settings, MONDAY_10)
    assert r.sent == 1 and r.failed == 1
    sec = [x for x in nudges(fresh_store) if x.role == "security"][0]
    assert sec.status == "pending" and "channel_not_found" in sec.last_error


def test_revoked_token_pauses_delivery_without_using_attempts(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    make_flag(fresh_store, slack_settings, org.bob, MONDAY_10)
    fake_slack.fake.revoked = True
    with caplog.at_level(logging.DEBUG):
        r = deliver_due(fresh_store, notifier_for(slack_settings), slack_settings, MONDAY_10)
    assert r.paused and "token_revoked" in r.paused and r.sent == 0
    assert len(fake_slack.fake.calls) == 1, "the run stops at the first channel-wide error"
    authors = [x for x in nudges(fresh_store) if x.role == "author"]
    assert all(x.status == "pending" and x.attempts == 0 for x in authors)
    assert "token_revoked" in authors[0].last_error
    assert "xoxb-test-token" not in caplog.text
    assert all("xoxb" not in (x.last_error or "") for x in authors)
    fake_slack.fake.revoked = False
    later = MONDAY_10 + timedelta(minutes=16)
    assert deliver_due(fresh_store, notifier_for(slack_settings), slack_settings, later).sent == 2


def test_weekly_budget_defers_until_the_oldest_ages_out(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org
) -> None:
    n = notifier_for(slack_settings)
    for i in range(5):
        make_flag(fresh_store, slack_settings, org.alice, MONDAY_10 + timedelta(minutes=i))
        deliver_due(fresh_store, n, slack_settings, MONDAY_10 + timedelta(minutes=i))
    assert len(fake_slack.fake.posted("DUALICE")) == 3  # weekly_budget = 3
    waiting = [x for x in nudges(fresh_store) if x.role == "author" and x.status == "pending"]
    assert len(waiting) == 2
    assert all(x.not_before >= MONDAY_10 + timedelta(days=7) for x in waiting)
    assert all("budget" in x.last_error for x in waiting)
    r = deliver_due(fresh_store, n, slack_settings, MONDAY_10 + timedelta(days=7, minutes=2))
    assert len(fake_slack.fake.posted("DUALICE")) == 3 + min(r.sent, 2) and r.sent >= 1


def test_one_nudge_per_post_even_when_edited(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org
) -> None:
    n = notifier_for(slack_settings)
    make_flag(fresh_store, slack_settings, org.alice, MONDAY_10, post_id="same")
    deliver_due(fresh_store, n, slack_settings, MONDAY_10)
    # The author edits the post but the phone number is still there: a new flag, no new DM.
    make_flag(fresh_store, slack_settings, org.alice, MONDAY_10 + timedelta(minutes=5),
              post_id="same", text="call my colleague Jane on +1 415 555 0100 about launch!")
    deliver_due(fresh_store, n, slack_settings, MONDAY_10 + timedelta(minutes=6))
    assert len(fake_slack.fake.posted("DUALICE")) == 1
