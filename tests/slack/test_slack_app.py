"""The Bolt app with real slack-bolt: signed requests in, calls to the fake Slack out."""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from monitor.accounts.notice import build_notice
from monitor.config import Settings
from monitor.guidance.outbox import deliver_due
from monitor.slack.blocks import escape
from monitor.store import Store, audit
from monitor.store.schema import (
    AccountRow,
    AuditEventRow,
    ConsentRow,
    FeedbackRow,
    FindingRow,
    FlagRow,
    NudgeRow,
    PostRow,
)
from tests.fakes.slack_api import FakeSlackServer
from tests.slack.conftest import (
    MONDAY_10,
    Org,
    button,
    command,
    dispatch_form,
    make_flag,
    notifier_for,
    sg_app,
    submit_view,
)


def delivered_author_message(store: Store, settings: Settings, fake: FakeSlackServer) -> dict:
    deliver_due(store, notifier_for(settings), settings, MONDAY_10)
    return fake.fake.posted("DUALICE")[-1]


def flag(store: Store, fid: int) -> FlagRow:
    with store.session() as s:
        return s.get(FlagRow, fid)


def feedback(store: Store, fid: int) -> list[FeedbackRow]:
    with store.session() as s:
        return list(s.scalars(select(FeedbackRow).where(FeedbackRow.flag_id == fid)))


# --- request signatures -----------------------------------------------------------------


def test_forged_signature_is_refused_and_logged(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = sg_app(slack_settings, fresh_store, [MONDAY_10])
    with caplog.at_level(logging.WARNING):
        resp = command(app, "UALICE", "status", secret="not-the-secret")
    assert resp.status == 401
    assert "invalid or stale signature" in caplog.text
    assert "status" not in caplog.text.split("signature")[-1]  # the body is not logged
    assert fake_slack.fake.calls == []


def test_stale_signature_is_refused(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = sg_app(slack_settings, fresh_store, [MONDAY_10])
    with caplog.at_level(logging.WARNING):
        resp = command(app, "UALICE", "status", timestamp=int(time.time()) - 3600)
    assert resp.status == 401 and "stale" in caplog.text
    assert command(app, "UALICE", "status").status == 200


def test_unsigned_event_is_refused(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    from slack_bolt import BoltRequest

    app = sg_app(slack_settings, fresh_store, [MONDAY_10])
    resp = app.app.dispatch(BoltRequest(body="command=%2Fsocialguide&text=status",
                                        headers={"content-type":
                                                 "application/x-www-form-urlencoded"}))
    assert resp.status == 401


# --- opt-in -----------------------------------------------------------------------------


def test_connect_shows_the_notice_and_records_consent_only_after_confirmation(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    app = sg_app(slack_settings, fresh_store, [MONDAY_10])
    resp = command(app, "UBOB", "connect bluesky @Bob.bsky.social")
    assert resp.status == 200
    (opened,) = [v for v in fake_slack.fake.views if v["kind"] == "open"]
    view = opened["view"]
    shown = "".join(b["text"]["text"] for b in view["blocks"] if b["type"] == "section")
    notice = build_notice(slack_settings, "bluesky", "bob.bsky.social")
    assert shown == escape(notice)
    for must in ("public posts", "Why", "manager", "kept", "Disconnect", "2026.1",
                 slack_settings.policy.url):
        assert must in notice
    with fresh_store.session() as s:
        assert s.scalar(select(AccountRow).where(AccountRow.handle == "bob.bsky.social")) is None
    # Submitting without ticking the box records nothing.
    resp = submit_view(app, "UBOB", view, {"sg_consent_ack": {"agree": {"selected_options": []}}})
    assert resp.status == 200 and "errors" in resp.body
    with fresh_store.session() as s:
        assert s.scalar(select(AccountRow).where(AccountRow.handle == "bob.bsky.social")) is None
    resp = submit_view(app, "UBOB", view, {"sg_consent_ack": {"agree": {
        "selected_options": [{"value": "agree"}]}}})
    assert resp.status == 200 and '"update"' in resp.body
    with fresh_store.session() as s:
        acc = s.scalar(select(AccountRow).where(AccountRow.handle == "bob.bsky.social"))
        assert acc is not None and acc.owner_id == org.bob
        (consent,) = s.scalars(select(ConsentRow).where(ConsentRow.account_id == acc.id))
        assert consent.policy_version == "2026.1"
        assert consent.notice_hash == hashlib.sha256(notice.encode()).hexdigest()
        assert consent.given_at is not None and consent.withdrawn_at is None
        assert s.scalar(select(AuditEventRow).where(AuditEventRow.action == "consent.given",
                                                    AuditEventRow.subject_id == str(acc.id)))
    assert any(v["kind"] == "publish" and v["user_id"] == "UBOB" for v in fake_slack.fake.views)


def test_a_notice_that_changed_while_open_is_not_consent(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    app = sg_app(slack_settings, fresh_store, [MONDAY_10])
    command(app, "UBOB", "connect bluesky bob.bsky.social")
    view = fake_slack.fake.views[-1]["view"]
    slack_settings.policy.version = "2026.2"
    resp = submit_view(app, "UBOB", view, {"sg_consent_ack": {"agree": {
        "selected_options": [{"value": "agree"}]}}})
    assert "notice changed" in resp.body
    with fresh_store.session() as s:
        assert s.scalar(select(AccountRow).where(AccountRow.handle == "bob.bsky.social")) is None


def test_nobody_connects_an_account_for_someone_else(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    app = sg_app(slack_settings, fresh_store, [MONDAY_10])
    # Alice's account is hers; Bob cannot take it over.
    command(app, "UBOB", "connect bluesky alice.bsky.social")
    view = fake_slack.fake.views[-1]["view"]
    resp = submit_view(app, "UBOB", view, {"sg_consent_ack": {"agree": {
        "selected_options": [{"value": "agree"}]}}})
    assert "someone else" in resp.body
    with fresh_store.session() as s:
        acc = s.scalar(select(AccountRow).where(AccountRow.handle == "alice.bsky.social"))
        assert acc.owner_id == org.alice
    # A Slack user who is not in the people directory cannot connect anything.
    fake_slack.fake.add_user("USTRANGER", "stranger@example.org")
    resp = command(app, "USTRANGER", "connect bluesky stranger.bsky.social")
    assert "people directory" in resp.body
    # The owner is whoever presses, never a name typed in the command.
    resp = command(app, "UBOB", "connect bluesky")
    assert "connect <platform> <handle>" in resp.body


def test_bad_platform_and_handle_get_a_clear_answer(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    app = sg_app(slack_settings, fresh_store, [MONDAY_10])
    assert "unknown platform" in command(app, "UBOB", "connect myspace bob").body
    assert "not collected" in command(app, "UBOB", "connect x bob").body  # x is off by default
    assert "does not look like" in command(app, "UBOB", "connect bluesky bob<script>").body
    assert "http(s) URL" in command(app, "UBOB", "connect rss ftp://feed").body


# --- the author's buttons ---------------------------------------------------------------


def test_handled_within_grace_means_the_manager_never_hears(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    fid = make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    msg = delivered_author_message(fresh_store, slack_settings, fake_slack)
    now = [MONDAY_10 + timedelta(hours=3)]
    app = sg_app(slack_settings, fresh_store, now)
    resp = button(app, "UALICE", "sg_author_handled", str(fid), msg, "DUALICE")
    assert resp.status == 200
    f = flag(fresh_store, fid)
    assert (f.status, f.resolution) == ("resolved", "self_resolved")
    fb = feedback(fresh_store, fid)
    assert {x.source for x in fb} == {"rule:pii.test", "rule:pii.other"}
    assert {(x.verdict, x.role, x.actor) for x in fb} == {("confirmed", "author",
                                                           "alice@example.com")}
    updated = fake_slack.fake.posted("DUALICE")[-1]
    assert not [b for b in updated["blocks"] if b["type"] == "actions"]
    assert "Thanks" in updated["text"]
    with fresh_store.session() as s:
        assert s.scalar(select(AuditEventRow).where(AuditEventRow.action == "nudge.button",
                                                    AuditEventRow.subject_id == str(fid)))
    r = deliver_due(fresh_store, notifier_for(slack_settings), slack_settings,
                    MONDAY_10 + timedelta(hours=30))
    assert r.sent == 0 and fake_slack.fake.posted("DUMARA") == []
    with fresh_store.session() as s:
        m = s.scalar(select(NudgeRow).where(NudgeRow.role == "manager"))
        assert m.status == "cancelled"


def test_handled_after_grace_is_not_self_resolved(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    fid = make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    msg = delivered_author_message(fresh_store, slack_settings, fake_slack)
    app = sg_app(slack_settings, fresh_store, [MONDAY_10 + timedelta(hours=30)])
    button(app, "UALICE", "sg_author_handled", str(fid), msg, "DUALICE")
    assert flag(fresh_store, fid).resolution == "author_resolved"


def test_this_is_fine_because_asks_for_a_reason(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    fid = make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    msg = delivered_author_message(fresh_store, slack_settings, fake_slack)
    app = sg_app(slack_settings, fresh_store, [MONDAY_10 + timedelta(hours=1)])
    button(app, "UALICE", "sg_author_fine", str(fid), msg, "DUALICE")
    assert flag(fresh_store, fid).status == "open"  # nothing changes before the reason
    view = fake_slack.fake.views[-1]["view"]
    assert view["callback_id"] == "sg_reason"
    resp = submit_view(app, "UALICE", view, {"sg_reason_text": {"reason": {"value": "ok"}}})
    assert "errors" in resp.body
    submit_view(app, "UALICE", view, {"sg_reason_text": {"reason": {
        "value": "It is our public support hotline number."}}})
    f = flag(fresh_store, fid)
    assert (f.status, f.resolution) == ("dismissed", "author_not_a_concern")
    fb = feedback(fresh_store, fid)
    assert {x.verdict for x in fb} == {"not_a_concern"}
    assert fb[0].reason == "It is our public support hotline number."
    assert not [b for b in fake_slack.fake.posted("DUALICE")[-1]["blocks"]
                if b["type"] == "actions"]


def test_ask_compliance_escalates_and_tells_the_compliance_channel(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    fid = make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    msg = delivered_author_message(fresh_store, slack_settings, fake_slack)
    app = sg_app(slack_settings, fresh_store, [MONDAY_10 + timedelta(hours=1)])
    button(app, "UALICE", "sg_author_ask", str(fid), msg, "DUALICE")
    assert flag(fresh_store, fid).status == "escalated"
    assert {x.verdict for x in feedback(fresh_store, fid)} == {"escalated"}
    r = deliver_due(fresh_store, notifier_for(slack_settings), slack_settings,
                    MONDAY_10 + timedelta(hours=1, minutes=1))
    assert r.sent == 1
    (note,) = fake_slack.fake.posted("CCOMPLIANCE")
    assert f"#{fid}" in note["text"] and "555" not in note["blocks"][0]["text"]["text"]
    # The manager is not asked to coach on a flag compliance now has.
    deliver_due(fresh_store, notifier_for(slack_settings), slack_settings,
                MONDAY_10 + timedelta(hours=30))
    assert fake_slack.fake.posted("DUMARA") == []


def test_an_author_cannot_answer_for_someone_elses_flag(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    fid = make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    app = sg_app(slack_settings, fresh_store, [MONDAY_10])
    button(app, "UBOB", "sg_author_handled", str(fid))
    assert flag(fresh_store, fid).status == "open" and feedback(fresh_store, fid) == []


# --- the manager ------------------------------------------------------------------------


def test_manager_coaches_only_their_own_team(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    fid = make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    n = notifier_for(slack_settings)
    deliver_due(fresh_store, n, slack_settings, MONDAY_10)
    deliver_due(fresh_store, n, slack_settings, MONDAY_10 + timedelta(hours=25))
    (note,) = fake_slack.fake.posted("DUMARA")
    app = sg_app(slack_settings, fresh_store, [MONDAY_10 + timedelta(hours=26)])
    # Another manager pressing the same button (a forwarded payload) changes nothing.
    button(app, "UOTHER", "sg_manager_talked", str(fid))
    assert flag(fresh_store, fid).status == "open" and feedback(fresh_store, fid) == []
    with fresh_store.session() as s:
        assert s.scalar(select(AuditEventRow).where(
            AuditEventRow.action == "nudge.button.refused"))
    button(app, "UMARA", "sg_manager_talked", str(fid), note, "DUMARA")
    f = flag(fresh_store, fid)
    assert (f.status, f.resolution) == ("resolved", "manager_resolved")
    assert {(x.verdict, x.role) for x in feedback(fresh_store, fid)} == {("handled", "manager")}


def test_manager_can_ask_compliance(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    fid = make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    app = sg_app(slack_settings, fresh_store, [MONDAY_10 + timedelta(hours=26)])
    button(app, "UMARA", "sg_manager_ask", str(fid))
    assert flag(fresh_store, fid).status == "escalated"
    with fresh_store.session() as s:
        assert s.scalar(select(NudgeRow).where(NudgeRow.kind == "escalation"))


# --- App Home and opt-out ---------------------------------------------------------------


def test_app_home_lists_accounts_flags_and_nudges(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    delivered_author_message(fresh_store, slack_settings, fake_slack)
    app = sg_app(slack_settings, fresh_store, [MONDAY_10])
    import json

    event = {"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "token": "legacy",
             "event": {"type": "app_home_opened", "user": "UALICE", "tab": "home",
                       "channel": "DUALICE", "event_ts": "1.0"},
             "event_id": "Ev1", "event_time": 1}
    body = json.dumps(event)
    from slack_bolt import BoltRequest

    from tests.slack.conftest import signed

    resp = app.app.dispatch(BoltRequest(body=body, headers=signed(body, "application/json")))
    assert resp.status == 200
    (home,) = [v for v in fake_slack.fake.views if v["kind"] == "publish"]
    text = json.dumps(home["view"])
    assert "alice.bsky.social" in text and "sg_disconnect" in text
    assert "pii" in text and "heads-up" in text


def test_disconnect_withdraws_consent_and_erases_text(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    fid = make_flag(fresh_store, slack_settings, org.alice, MONDAY_10)
    delivered_author_message(fresh_store, slack_settings, fake_slack)
    app = sg_app(slack_settings, fresh_store, [MONDAY_10 + timedelta(hours=2)])
    # Someone else cannot disconnect (and erase) Alice's account.
    button(app, "UBOB", "sg_disconnect", str(org.alice_account))
    with fresh_store.session() as s:
        assert s.scalar(select(ConsentRow).where(ConsentRow.account_id == org.alice_account)
                        ).withdrawn_at is None
    button(app, "UALICE", "sg_disconnect", str(org.alice_account))
    with fresh_store.session() as s:
        c = s.scalar(select(ConsentRow).where(ConsentRow.account_id == org.alice_account))
        assert c.withdrawn_at is not None
        post = s.scalar(select(PostRow).where(PostRow.account_id == org.alice_account))
        assert post.text is None and post.erased_at is not None
        f = s.get(FlagRow, fid)
        assert f.excerpt is None and f.erased_at is not None
        assert all(x.evidence is None for x in s.scalars(select(FindingRow)))
        for n in s.scalars(select(NudgeRow).where(NudgeRow.flag_id == fid)):
            assert "555" not in n.body
            assert n.status in ("sent", "cancelled")
        events = s.scalars(select(AuditEventRow).where(AuditEventRow.action.in_(
            ["consent.withdrawn", "account.erased"]))).all()
        assert {e.action for e in events} == {"consent.withdrawn", "account.erased"}
        assert all("555" not in str(e.details) for e in events)
        assert audit.verify(s).ok
    home = [v for v in fake_slack.fake.views if v["kind"] == "publish"][-1]
    assert "Disconnected bluesky alice.bsky.social" in str(home["view"])
    # The manager's note never goes: the flag's text is gone and collection stopped.
    deliver_due(fresh_store, notifier_for(slack_settings), slack_settings,
                MONDAY_10 + timedelta(hours=30))
    assert fake_slack.fake.posted("DUMARA") == []


def test_disconnect_by_command_and_status(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    app = sg_app(slack_settings, fresh_store, [MONDAY_10])
    assert "alice.bsky.social" in command(app, "UALICE", "status").body
    resp = command(app, "UALICE", "disconnect bluesky alice.bsky.social")
    assert "Disconnected" in resp.body
    assert "No accounts connected" in command(app, "UALICE", "status").body
    assert "help" in command(app, "UALICE", "help").body


def test_url_encoded_command_has_help_by_default(
    fresh_store: Store, slack_settings: Settings, fake_slack: FakeSlackServer, org: Org,
) -> None:
    app = sg_app(slack_settings, fresh_store, [MONDAY_10])
    resp = dispatch_form(app, {"command": "/socialguide", "text": "", "user_id": "UALICE",
                               "team_id": "T1", "trigger_id": "t", "api_app_id": "A1"})
    assert resp.status == 200 and "/socialguide connect" in resp.body
