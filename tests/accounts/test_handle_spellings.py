"""One account, however its handle is typed: Slack, the CSV import and lookups agree."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from monitor.accounts.consent import connect
from monitor.accounts.csv_import import apply_accounts, check_accounts, read_accounts_csv
from monitor.config import Settings
from monitor.domain import utcnow
from monitor.slack.actions import parse_account
from monitor.store import Store, repo
from monitor.store.schema import AccountRow, PersonRow

HEADER = "email,platform,handle,consent_reference,policy_version\n"


def test_slack_connect_and_csv_import_of_one_account_make_one_account(
        tmp_path: Path, settings: Settings, fresh_store: Store) -> None:
    with fresh_store.session() as s:
        s.add(PersonRow(email="ann@example.com", slack_id="U0AAA1", timezone="UTC"))
    with fresh_store.session() as s:
        person = repo.person_by_email(s, "ann@example.com")
        assert person is not None
        platform, handle = parse_account(settings, "bluesky", "@Alice.bsky.social")
        connect(s, person, platform, handle, "2026.1", "0" * 64, utcnow())
    csv = tmp_path / "accounts.csv"
    csv.write_text(HEADER + "ann@example.com,bluesky,Alice.bsky.social,HR-1,2026.1\n")
    rows, errors = read_accounts_csv(csv)
    assert errors == []
    with fresh_store.session() as s:
        ready = check_accounts(s, rows, errors, str(csv))
        assert errors == []
        apply_accounts(s, ready, settings, "cli:test")
    with fresh_store.session() as s:
        accounts = s.scalars(select(AccountRow)).all()
        assert [(a.platform, a.handle) for a in accounts] == [("bluesky", "alice.bsky.social")]
