"""``socialguide people import``: row-by-row validation with line numbers."""

from __future__ import annotations

import codecs
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from monitor.accounts.people import apply_people, check_managers, read_people_csv
from monitor.cli import app
from monitor.collectors.registry import build_collectors
from monitor.config import Settings, settings_from_dict
from monitor.errors import InputError
from monitor.jobs.cycle import run_cycle
from monitor.pipeline.factory import build_pipeline
from monitor.store import Store, audit, repo
from monitor.store.schema import AccountRow, PersonRow, PostRow

NOW = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
HEADER = "email,name,slack_id,manager_email,team,timezone\n"


def _cfg(tmp_path: Path, settings: Settings) -> Path:
    """A config naming the test's store, created the way an operator does (db upgrade)."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\nurl = "{settings.store.url}"\n')
    res = CliRunner().invoke(app, ["db", "upgrade", "-c", str(cfg)])
    assert res.exit_code == 0, res.output
    return cfg


def test_imports_people_and_links_managers(tmp_path: Path, settings: Settings) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text(HEADER
                   + "ann@example.com,Ann,U0AAA1,boss@example.com,Eng,Europe/Berlin\n"
                   + "boss@example.com,Boss,U0AAA2,,Eng,UTC\n")
    res = CliRunner().invoke(app, ["people", "import", str(csv), "-c", str(_cfg(tmp_path, settings))])
    assert res.exit_code == 0, res.output
    store = Store(settings.store.url)
    with store.session() as s:
        ann = s.scalar(select(PersonRow).where(PersonRow.email == "ann@example.com"))
        assert ann is not None and ann.manager is not None
        assert ann.manager.email == "boss@example.com"
        assert ann.timezone == "Europe/Berlin"
    # Importing again updates, never duplicates.
    res = CliRunner().invoke(app, ["people", "import", str(csv), "-c", str(_cfg(tmp_path, settings))])
    assert "0 created, 2 updated" in res.stderr
    with store.session() as s:
        assert len(s.scalars(select(PersonRow)).all()) == 2


def test_bad_rows_are_named_and_nothing_is_imported(tmp_path: Path, settings: Settings) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text(HEADER
                   + "ok@example.com,Ok,U0BBB1,,Eng,UTC\n"
                   + "not-an-email,X,U0BBB2,,Eng,UTC\n"
                   + "tz@example.com,T,U0BBB3,,Eng,Mars/Olympus\n"
                   + "m@example.com,M,U0BBB4,ghost@example.com,Eng,UTC\n"
                   + "ok@example.com,Dup,U0BBB5,,Eng,UTC\n"
                   + "s@example.com,S,lowercase,,Eng,UTC\n")
    cfg = _cfg(tmp_path, settings)
    res = CliRunner().invoke(app, ["people", "import", str(csv), "-c", str(cfg)])
    assert res.exit_code == 1
    err = res.stderr
    assert f"{csv}:3: email 'not-an-email' is not an e-mail address" in err
    assert f"{csv}:4: timezone 'Mars/Olympus'" in err
    assert f"{csv}:5: manager_email ghost@example.com" in err
    assert f"{csv}:6: duplicate email ok@example.com (first on line 2)" in err
    assert f"{csv}:7: slack_id 'lowercase'" in err
    assert "nothing imported" in err
    with Store(settings.store.url).session() as s:
        assert s.scalars(select(PersonRow)).all() == []
    res = CliRunner().invoke(app, ["people", "import", str(csv), "-c", str(cfg), "--skip-invalid"])
    assert res.exit_code == 0
    with Store(settings.store.url).session() as s:
        assert [p.email for p in s.scalars(select(PersonRow))] == ["ok@example.com"]


def test_missing_columns_and_files(tmp_path: Path, settings: Settings) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text("email,team\na@example.com,Eng\n")
    cfg = _cfg(tmp_path, settings)
    res = CliRunner().invoke(app, ["people", "import", str(csv), "-c", str(cfg)])
    assert res.exit_code == 1
    assert "missing column(s) slack_id, manager_email, timezone" in res.stderr
    res = CliRunner().invoke(app, ["people", "import", str(tmp_path / "no.csv"), "-c", str(cfg)])
    assert res.exit_code == 1
    assert "file not found" in res.stderr


def test_management_loops_are_rejected(tmp_path: Path, settings: Settings) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text(HEADER + "a@example.com,A,,b@example.com,E,UTC\nb@example.com,B,,a@example.com,E,UTC\n")
    res = CliRunner().invoke(app, ["people", "import", str(csv), "-c", str(_cfg(tmp_path, settings))])
    assert res.exit_code == 1
    assert "loops back" in res.stderr


ROWS = ("ann@example.com,Ann Ärger,U0AAA1,boss@example.com,Eng,Europe/Berlin\r\n"
        "boss@example.com,Bo SStark,U0AAA2,,Eng,UTC\r\n")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le-bom",
                                      "utf-16-be-bom"])
def test_spreadsheet_encodings_are_read(tmp_path: Path, settings: Settings, encoding: str) -> None:
    csv = tmp_path / "people.csv"
    text = HEADER.replace("\n", "\r\n") + ROWS
    if encoding == "utf-16-le-bom":
        data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    elif encoding == "utf-16-be-bom":
        data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)  # "utf-16" writes a BOM, as "Unicode text" exports do
    csv.write_bytes(data)
    res = CliRunner().invoke(app, ["people", "import", str(csv), "-c", str(_cfg(tmp_path, settings))])
    assert res.exit_code == 0, res.output
    with Store(settings.store.url).session() as s:
        names = sorted(p.name or "" for p in s.scalars(select(PersonRow)))
        emails = sorted(p.email for p in s.scalars(select(PersonRow)))
    assert names == ["Ann Ärger", "Bo SStark"]
    assert emails == ["ann@example.com", "boss@example.com"]  # no BOM glued to the first one


@pytest.mark.parametrize(("data", "message"), [
    ((HEADER + ROWS).encode("cp1252"), "people.csv:2: not UTF-8: byte 0xc4 at offset"),
    ((HEADER + ROWS).encode("utf-16-le"), "looks like UTF-16 without a byte-order mark"),
    (codecs.BOM_UTF16_LE + b"e\x00m\x00\x00\xd8", "not valid UTF-16 after its byte-order mark"),
    (b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4, "people.csv"),
])
def test_other_encodings_are_named(tmp_path: Path, settings: Settings, data: bytes,
                                   message: str) -> None:
    csv = tmp_path / "people.csv"
    csv.write_bytes(data)
    res = CliRunner().invoke(app, ["people", "import", str(csv), "-c", str(_cfg(tmp_path, settings))])
    assert res.exit_code == 1
    assert message in res.stderr
    assert "Traceback" not in res.output
    assert [ln for ln in res.stderr.splitlines() if ln.startswith("error:")] != []


def test_every_problem_of_every_row_is_reported(tmp_path: Path, settings: Settings) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text(HEADER
                   + "bad-email,X,lowercase,not-a-manager,Eng,Mars/Olympus\n"
                   + "two@example.com,T,U0TWO1,,Eng,Nowhere/Else\n"
                   + "three@example.com,T,bad id,ghost@example.com,Eng,UTC\n")
    res = CliRunner().invoke(app, ["people", "import", str(csv), "-c", str(_cfg(tmp_path, settings))])
    assert res.exit_code == 1
    err = res.stderr
    assert f"{csv}:2: email 'bad-email' is not an e-mail address" in err
    assert f"{csv}:2: slack_id 'lowercase' is not a Slack user id" in err
    assert f"{csv}:2: manager_email 'not-a-manager' is not an e-mail address" in err
    assert f"{csv}:2: timezone 'Mars/Olympus' is not an IANA time zone" in err
    assert f"{csv}:3: timezone 'Nowhere/Else'" in err
    assert f"{csv}:4: slack_id 'bad id'" in err
    assert f"{csv}:4: manager_email ghost@example.com is neither in this file" in err
    assert "nothing imported: 7 problem(s) in 3 bad row(s)" in err


def test_a_missing_time_zone_is_reported_not_silently_utc(tmp_path: Path,
                                                          settings: Settings) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text(HEADER + "a@example.com,A,,,Eng,\nb@example.com,B,,,Eng,Asia/Tokyo\n"
                   + "c@example.com,C,,,Eng,\n")
    cfg = _cfg(tmp_path, settings)
    res = CliRunner().invoke(app, ["people", "import", str(csv), "-c", str(cfg)])
    assert res.exit_code == 1
    assert f"{csv}:2: timezone is empty" in res.stderr
    assert f"{csv}:4: timezone is empty" in res.stderr
    with Store(settings.store.url).session() as s:
        assert s.scalars(select(PersonRow)).all() == []
    # Defaulting is possible, and loud: every row that got the default is named.
    res = CliRunner().invoke(app, ["people", "import", str(csv), "-c", str(cfg),
                                   "--default-timezone", "Europe/Lisbon"])
    assert res.exit_code == 0, res.output
    assert "timezone empty on 2 row(s), set to Europe/Lisbon: line(s) 2, 4" in res.stderr
    with Store(settings.store.url).session() as s:
        zones = {p.email: p.timezone for p in s.scalars(select(PersonRow))}
    assert zones == {"a@example.com": "Europe/Lisbon", "b@example.com": "Asia/Tokyo",
                     "c@example.com": "Europe/Lisbon"}
    res = CliRunner().invoke(app, ["people", "import", str(csv), "-c", str(cfg),
                                   "--default-timezone", "Mars/Base"])
    assert res.exit_code == 1
    assert "--default-timezone 'Mars/Base' is not an IANA time zone" in res.stderr


def test_import_refuses_to_create_an_empty_database(tmp_path: Path, settings: Settings) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text(HEADER + "a@example.com,A,,,Eng,UTC\n")
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\nurl = "{settings.store.url}"\n')
    res = CliRunner().invoke(app, ["people", "import", str(csv), "-c", str(cfg)])
    assert res.exit_code == 1
    db = tmp_path / "socialguide.db"
    assert f"no database at {db}" in res.stderr
    assert f"socialguide db upgrade --config {cfg}" in res.stderr
    assert not db.exists()


def test_people_import_and_cycle_store_awkward_posts(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email,name,slack_id,manager_email,team,timezone\n"
                      "boss@example.com,Boss,UBOSS1,,Ops,UTC\n"
                      "ann@example.com,Ann,UANN01,boss@example.com,Ops,Europe/Berlin\n",
                      encoding="utf-8")
    long_id = "https://feeds.example.org/item/" + "z" * 900
    lines = [
        {"id": "nul-1", "platform": "bluesky", "account": "ann.bsky.social",
         "text": "zero\u0000width my password is hunter2hunter2", "created_at": "2026-11-08T10:00:00Z"},
        {"id": long_id, "platform": "bluesky", "account": "ann.bsky.social",
         "text": "a long id", "url": "https://example.org/" + "u" * 3000,
         "created_at": "2026-11-08T11:00:00Z"},
        {"id": "plain", "platform": "bluesky", "account": "ann.bsky.social", "text": "hello"},
    ]
    replay = tmp_path / "posts.jsonl"
    replay.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    settings = settings_from_dict(
        {"store": {"url": store_url}, "platforms": {"replay": {"enabled": True,
                                                                  "path": str(replay)}}},
        source="test")
    result = read_people_csv(people)
    assert not result.errors
    with store.session() as s:
        check_managers(s, result, "people.csv")
        apply_people(s, result, actor="test")
    with store.session() as s:
        ann = repo.require_person(s, "ann@example.com")
        assert ann.manager_id is not None
        repo.add_account_with_consent(s, ann, "bluesky", "ann.bsky.social", "1", "h", None,
                                      actor="test")
        with pytest.raises(InputError, match="handle is longer than 512"):
            repo.add_account_with_consent(s, ann, "rss", "https://x.example/" + "f" * 600, "1",
                                          "h", None, actor="test")
    pipeline = build_pipeline(settings)
    report = run_cycle(store, settings, pipeline, build_collectors(settings), now=NOW)
    assert report.errors == {} and report.skipped == {}
    assert (report.posts_read, report.posts_new) == (3, 3)
    with store.session() as s:
        acc = s.scalar(select(AccountRow).where(AccountRow.handle == "ann.bsky.social"))
        assert acc is not None and acc.last_error is None
        assert s.scalar(select(PostRow.post_id).where(PostRow.post_id == long_id)) == long_id
        assert s.scalar(select(func.count(PostRow.id))) == 3
    again = run_cycle(store, settings, pipeline, build_collectors(settings), now=NOW)
    assert (again.posts_read, again.posts_new) == (0, 0)
    with store.session() as s:
        assert s.scalar(select(func.count(PersonRow.id))) == 2
        assert audit.verify(s).ok


def test_people_import_refuses_values_wider_than_the_columns(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email,name,slack_id,manager_email,team,timezone\n"
                      f"a@example.com,{'N' * 201},UA0001,,Ops,UTC\n"
                      f"b@example.com,B,UB0001,,{'T' * 201},UTC\n", encoding="utf-8")
    result = read_people_csv(people)
    assert [e.line for e in result.errors] == [2, 3]
    assert "name is longer than 200" in str(result.errors[0])
    assert "team is longer than 200" in str(result.errors[1])
