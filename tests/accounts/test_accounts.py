"""``socialguide accounts import|list|withdraw``: consents gathered outside Slack."""

from __future__ import annotations

import csv as csvlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import Settings
from monitor.store import Store, repo
from monitor.store.schema import AccountRow, ConsentRow, PostRow

PEOPLE = ("email,name,slack_id,manager_email,team,timezone\n"
          "ann@example.com,Ann,U0AAA1,,Eng,UTC\nbob@example.com,Bob,U0AAA2,,Eng,UTC\n")
HEADER = "email,platform,handle,consent_reference,policy_version\n"


def _setup(tmp_path: Path, settings: Settings) -> tuple[Path, CliRunner]:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\nurl = "{settings.store.url}"\n')
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade", "-c", str(cfg)]).exit_code == 0
    assert runner.invoke(app, ["people", "import", str(people), "-c", str(cfg)]).exit_code == 0
    return cfg, runner


def test_import_records_consent_and_list_shows_it(tmp_path: Path, settings: Settings) -> None:
    cfg, runner = _setup(tmp_path, settings)
    csv = tmp_path / "accounts.csv"
    csv.write_text(HEADER + "ann@example.com,bluesky,ann.bsky.social,HR-1,2026.1\n"
                   + "ann@example.com,mastodon,ann@hachyderm.io,HR-1,2026.1\n")
    res = runner.invoke(app, ["accounts", "import", str(csv), "-c", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "2 consent(s) recorded" in res.stderr
    again = runner.invoke(app, ["accounts", "import", str(csv), "-c", str(cfg)])
    assert "0 consent(s) recorded, 2 already active" in again.stderr
    with Store(settings.store.url).session() as s:
        consents = s.scalars(select(ConsentRow)).all()
        assert len(consents) == 2
        assert {c.reference for c in consents} == {"HR-1"}
        assert all(c.policy_version == "2026.1" and len(c.notice_hash) == 64 for c in consents)
    listing = runner.invoke(app, ["accounts", "list", "-c", str(cfg)], env={"COLUMNS": "200"})
    assert listing.exit_code == 0
    assert "ann.bsky.social" in listing.stdout and "ann@hachyderm.io" in listing.stdout


def test_bad_rows_are_named_and_nothing_imported(tmp_path: Path, settings: Settings) -> None:
    cfg, runner = _setup(tmp_path, settings)
    csv = tmp_path / "accounts.csv"
    csv.write_text(HEADER
                   + "ann@example.com,bluesky,ann.bsky.social,HR-1,2026.1\n"
                   + "ann@example.com,myspace,ann,HR-1,2026.1\n"
                   + "nobody@example.com,bluesky,nobody.bsky.social,HR-2,2026.1\n"
                   + "ann@example.com,x,ann,,2026.1\n"
                   + "ann@example.com,bluesky,ann.bsky.social,HR-1,2026.1\n")
    res = runner.invoke(app, ["accounts", "import", str(csv), "-c", str(cfg)])
    assert res.exit_code == 1
    err = res.stderr
    assert f"{csv}:3: column 'platform': unknown platform 'myspace'" in err
    assert f"{csv}:4: column 'email': no person 'nobody@example.com'" in err
    assert f"{csv}:5: column 'consent_reference': empty" in err
    assert f"{csv}:6: duplicate of line 2" in err
    assert "nothing imported" in err
    with Store(settings.store.url).session() as s:
        assert s.scalars(select(ConsentRow)).all() == []


def test_someone_elses_account_is_refused(tmp_path: Path, settings: Settings) -> None:
    cfg, runner = _setup(tmp_path, settings)
    first = tmp_path / "a.csv"
    first.write_text(HEADER + "ann@example.com,x,shared_handle,HR-1,2026.1\n")
    assert runner.invoke(app, ["accounts", "import", str(first), "-c", str(cfg)]).exit_code == 0
    second = tmp_path / "b.csv"
    second.write_text(HEADER + "bob@example.com,x,shared_handle,HR-2,2026.1\n")
    res = runner.invoke(app, ["accounts", "import", str(second), "-c", str(cfg)])
    assert res.exit_code == 1
    assert "connected by someone else" in res.stderr


def test_withdraw_stops_collection_and_erases_text(tmp_path: Path, settings: Settings) -> None:
    cfg, runner = _setup(tmp_path, settings)
    csv = tmp_path / "a.csv"
    csv.write_text(HEADER + "ann@example.com,bluesky,ann.bsky.social,HR-1,2026.1\n")
    assert runner.invoke(app, ["accounts", "import", str(csv), "-c", str(cfg)]).exit_code == 0
    store = Store(settings.store.url)
    from monitor.domain import Post

    with store.session() as s:
        acc = repo.consented_accounts(s)[0]
        repo.upsert_post(s, Post("p1", "hello world", "bluesky"), acc.id)
    res = runner.invoke(app, ["accounts", "withdraw", "--platform", "bluesky", "--handle",
                              "ann.bsky.social", "-c", str(cfg)])
    assert res.exit_code == 0, res.output
    with store.session() as s:
        assert repo.consented_accounts(s) == []
        post = s.scalar(select(PostRow))
        assert post is not None and post.text is None and post.erased_at is not None
    log = runner.invoke(app, ["log", "verify", "-c", str(cfg)])
    assert log.exit_code == 0, log.output


def test_every_problem_of_a_row_is_reported(tmp_path: Path, settings: Settings) -> None:
    cfg, runner = _setup(tmp_path, settings)
    csv = tmp_path / "accounts.csv"
    csv.write_text(HEADER + "not-an-email,bluesky,no spaces allowed,,\n")
    res = runner.invoke(app, ["accounts", "import", str(csv), "-c", str(cfg)])
    assert res.exit_code == 1
    err = res.stderr
    for problem in ("column 'email': not an email address", "column 'handle'",
                    "column 'consent_reference': empty", "column 'policy_version': empty"):
        assert f"{csv}:2: {problem}" in err


def test_utf16_accounts_csv_with_bom_is_read(tmp_path: Path, settings: Settings) -> None:
    cfg, runner = _setup(tmp_path, settings)
    csv = tmp_path / "accounts.csv"
    csv.write_bytes((HEADER + "ann@example.com,bluesky,ann.bsky.social,\"HR-1, signed\",2026.1\n")
                    .encode("utf-16"))
    res = runner.invoke(app, ["accounts", "import", str(csv), "-c", str(cfg)])
    assert res.exit_code == 0, res.output
    with Store(settings.store.url).session() as s:
        assert [c.reference for c in s.scalars(select(ConsentRow))] == ["HR-1, signed"]


def _listed(tmp_path: Path, settings: Settings) -> tuple[Path, CliRunner]:
    cfg, runner = _setup(tmp_path, settings)
    csv = tmp_path / "accounts.csv"
    csv.write_text(HEADER + "ann@example.com,bluesky,ann.bsky.social,HR-1,2026.1\n"
                   + "bob@example.com,mastodon,bob_the_builder_of_things@hachyderm.io,HR-2,2026.1\n")
    assert runner.invoke(app, ["accounts", "import", str(csv), "-c", str(cfg)]).exit_code == 0
    with Store(settings.store.url).session() as s:
        bob = s.scalar(select(AccountRow).where(AccountRow.platform == "mastodon"))
        assert bob is not None
        bob.verified_at, bob.verification_method = None, None
        bob.last_error = "HTTP 503 from hachyderm.io: the instance is down for maintenance"
        bob.last_collected_at = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    return cfg, runner


def test_list_table_fits_80_columns_with_verification(tmp_path: Path, settings: Settings) -> None:
    cfg, runner = _listed(tmp_path, settings)
    res = runner.invoke(app, ["accounts", "list", "-c", str(cfg)], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    lines = [line.rstrip() for line in res.stdout.splitlines()]
    table = [line for line in lines if not line.startswith("last error: ")]
    assert all(len(line) <= 80 for line in table), "\n".join(lines)
    header = lines[0].split()
    assert header == ["owner", "account", "consent", "verified", "collected"]
    # One mail domain is named once, below, so the owners fit their column.
    assert "owners: @example.com addresses" in lines
    ann = next(line for line in lines if line.startswith("ann "))
    assert ann.split()[-3:] == ["active", "yes", "never"]
    bob = next(line for line in lines if line.startswith("bob "))
    assert bob.split()[-4:] == ["active", "no", "2026-03-02", "!"]
    # The error is written in full below the table (one line, naming the account).
    assert ("last error: mastodon bob_the_builder_of_things@hachyderm.io: HTTP 503 from "
            "hachyderm.io: the instance is down for maintenance") in lines


def test_list_csv_and_json_carry_every_field(tmp_path: Path, settings: Settings) -> None:
    cfg, runner = _listed(tmp_path, settings)
    res = runner.invoke(app, ["accounts", "list", "--format", "json", "-c", str(cfg)])
    assert res.exit_code == 0, res.output
    records = json.loads(res.stdout)
    assert [(r["owner"], r["platform"], r["verified"], r["verification_method"])
            for r in records] == [("ann@example.com", "bluesky", True, "hr_import"),
                                  ("bob@example.com", "mastodon", False, None)]
    assert records[1]["last_collected_at"] == "2026-03-02T10:00:00+00:00"
    assert records[0]["consent"] == "active" and records[0]["policy_version"] == "2026.1"
    res = runner.invoke(app, ["accounts", "list", "--format", "csv", "-c", str(cfg)])
    assert res.exit_code == 0, res.output
    rows = list(csvlib.DictReader(io.StringIO(res.stdout)))
    assert [r["handle"] for r in rows] == ["ann.bsky.social",
                                           "bob_the_builder_of_things@hachyderm.io"]
    assert rows[1]["verified"] == "False" and rows[1]["last_error"].startswith("HTTP 503")
    bad = runner.invoke(app, ["accounts", "list", "--format", "xml", "-c", str(cfg)])
    assert bad.exit_code == 2 and "xml" in bad.output
