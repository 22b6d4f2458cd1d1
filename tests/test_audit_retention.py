"""Retention purge and opt-out erasure: text goes, rows and a verifiable chain stay."""

from __future__ import annotations

from sqlalchemy import select, text

from monitor.accounts.erasure import erase_account
from monitor.compliance.retention import purge
from monitor.config import settings_from_dict
from monitor.store.audit import record, verify
from monitor.store.schema import AuditEventRow, FindingRow, FlagRow, PostRow
from tests import factories as fx


def _settings(url: str):
    return settings_from_dict({"store": {"url": url},
                               "retention": {"default_days": 365, "days": {"pii": 30}}})


def test_purge_erases_expired_text_by_category_and_keeps_holds(fresh_store, tmp_db_url):
    with fresh_store.session() as s:
        p = fx.person(s, "a@example.com")
        old_pii = fx.flag(s, p, "call 555-0100 now", category="pii", created_at=fx.days_ago(40))
        fresh_pii = fx.flag(s, p, "mail x@y.z", category="pii", created_at=fx.days_ago(5))
        old_cred = fx.flag(s, p, "pw hunter2", category="credentials",
                           created_at=fx.days_ago(40))
        ancient = fx.flag(s, p, "very old", category="credentials", created_at=fx.days_ago(400))
        held = fx.flag(s, p, "held pii", category="pii", created_at=fx.days_ago(400))
        held.legal_hold = True
        record(s, "cora", "flag.legal_hold", "flag", held.id, {"reason": "case"})
        ids = {k: v.id for k, v in dict(old_pii=old_pii, fresh_pii=fresh_pii, old_cred=old_cred,
                                        ancient=ancient, held=held).items()}
    res = purge(fresh_store, _settings(tmp_db_url))
    assert res.flags == {"pii": 1, "credentials": 1}
    with fresh_store.session() as s:
        def state(key):
            f = s.get(FlagRow, ids[key])
            post = s.get(PostRow, f.post_id)
            return f.excerpt is None, f.findings[0].evidence is None, post.text is None
        assert state("old_pii") == (True, True, True)
        assert state("ancient") == (True, True, True)
        assert state("fresh_pii") == (False, False, False)
        assert state("old_cred") == (False, False, False)  # 40 days < 365 for credentials
        assert state("held") == (False, False, False)
        assert verify(s).ok
        ev = s.scalars(select(AuditEventRow).where(AuditEventRow.action == "retention.purge")
                       ).one()
        assert ev.details["flags"] == {"pii": 1, "credentials": 1}
    again = purge(fresh_store, _settings(tmp_db_url))
    assert again.total == 0


def test_unflagged_posts_expire_after_default_days(fresh_store, tmp_db_url):
    with fresh_store.session() as s:
        p = fx.person(s, "a@example.com")
        acct = fx.account(s, p)
        s.add_all([
            PostRow(platform="bluesky", post_id="old", account_id=acct.id, text="old post",
                    created_at=fx.days_ago(400)),
            PostRow(platform="bluesky", post_id="new", account_id=acct.id, text="new post",
                    created_at=fx.days_ago(10)),
        ])
    purge(fresh_store, _settings(tmp_db_url))
    with fresh_store.session() as s:
        texts = dict(s.execute(select(PostRow.post_id, PostRow.text)).all())
    assert texts == {"old": None, "new": "new post"}


def test_erase_account_leaves_textless_rows_and_a_verifiable_chain(fresh_store):
    with fresh_store.session() as s:
        p = fx.person(s, "a@example.com")
        other = fx.person(s, "b@example.com")
        acct = fx.account(s, p)
        mine = [fx.flag(s, p, f"secret words {i}", acct=acct).id for i in range(2)]
        kept = fx.flag(s, p, "held words", acct=acct)
        kept.legal_hold = True
        record(s, "cora", "flag.legal_hold", "flag", kept.id, {"reason": "case"})
        theirs = fx.flag(s, other, "someone else").id
        acct_id, kept_id = acct.id, kept.id
    with fresh_store.session() as s:
        res = erase_account(s, acct_id, "slack:U123")
    assert (res.flags, res.findings, res.held_flags) == (2, 2, 1)
    with fresh_store.session() as s:
        for fid in mine:
            f = s.get(FlagRow, fid)
            assert f.excerpt is None and f.erased_at is not None
            assert f.findings[0].evidence is None
            assert s.get(PostRow, f.post_id).text is None
        assert s.get(FlagRow, kept_id).excerpt == "held words"
        assert s.get(FlagRow, theirs).excerpt == "someone else"
        assert s.scalar(select(FindingRow.evidence).where(FindingRow.flag_id == theirs))
        assert verify(s).ok
    with fresh_store.engine.connect() as conn:
        details = " ".join(r[0] for r in conn.execute(text("SELECT details FROM audit_events")))
    assert "secret words" not in details and "account.erased" not in details
