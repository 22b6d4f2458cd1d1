"""``socialguide people import``: row-by-row validation with line numbers."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import Settings
from monitor.store import Store
from monitor.store.schema import PersonRow

HEADER = "email,name,slack_id,manager_email,team,timezone\n"


def _cfg(tmp_path: Path, settings: Settings) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\nurl = "{settings.store.url}"\n')
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
