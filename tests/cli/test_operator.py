"""The operator's commands in order, on SQLite and PostgreSQL: upgrade, import, run, list,
withdraw and verify."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.resources import demo_dir
from monitor.store import Store
from monitor.store.schema import PostRow


def test_operator_commands_from_upgrade_to_withdrawal(store_url: str, tmp_path: Path) -> None:
    text = (demo_dir() / "config.toml").read_text(encoding="utf-8")
    text = text.replace('url = "sqlite:///socialguide-demo/socialguide.db"',
                        f'url = "{store_url}"')
    text = text.replace("[platforms.replay]\nenabled = true",
                        f'[platforms.replay]\nenabled = true\npath = "{demo_dir() / "posts.jsonl"}"')
    cfg = tmp_path / "config.toml"
    cfg.write_text(text, encoding="utf-8")
    runner = CliRunner()

    def cli(*args: str) -> str:
        r = runner.invoke(app, [*args, "--config", str(cfg)], env={"COLUMNS": "300"})
        assert r.exit_code == 0, r.output
        return r.output

    # Before `db upgrade` a command says what to do instead of failing with a stack trace.
    r = runner.invoke(app, ["people", "import", str(demo_dir() / "people.csv"),
                            "--config", str(cfg)])
    assert r.exit_code != 0 and "socialguide db upgrade" in r.output
    assert "Traceback" not in r.output
    cli("db", "upgrade")
    assert "created" in cli("people", "import", str(demo_dir() / "people.csv"))
    assert "11 consent(s) recorded" in cli("accounts", "import", str(demo_dir() / "accounts.csv"))
    cli("run", "--once")
    listing = cli("accounts", "list")
    assert "alexkim.bsky.social" in listing
    cli("accounts", "withdraw", "--platform", "bluesky", "--handle", "alexkim.bsky.social")
    assert "\nok: " in cli("log", "verify")  # after the "store: …" line
    store = Store(store_url, auto_upgrade=False)
    try:
        with store.session() as s:
            texts = s.scalars(select(PostRow.text).where(
                PostRow.author == "alexkim.bsky.social")).all()
            assert texts and all(t is None for t in texts)
            assert s.scalar(select(func.count(PostRow.id))) == 45
    finally:
        store.dispose()
