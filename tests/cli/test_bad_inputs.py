"""Every command against bad paths, encodings, permissions and states: one clear line, never a trace.

Each case runs a real command and asserts a non-zero exit, no traceback, no unexpected
exception, and a message naming the thing at fault (the file, option, key, user or store).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.store import Store

ROOT = Path(__file__).resolve().parents[2]
PEOPLE_HEADER = "email,name,slack_id,manager_email,team,timezone\n"
ACCOUNTS_HEADER = "email,platform,handle,consent_reference,policy_version\n"


@dataclass
class Case:
    """One command line, what its message must name, and whether it may be a usage error."""

    id: str
    args: list[str]
    names: list[str]
    usage: bool = False  # click's own "Usage: … Error: …" for an option it validates
    env: dict[str, str] = field(default_factory=dict)
    store_must_not_appear: bool = False


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each case (migrating costs seconds)."""
    db = tmp_path_factory.mktemp("template") / "socialguide.db"
    Store(f"sqlite:///{db}").dispose()
    return db


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
          migrated_db: Path) -> Iterator[dict[str, str]]:
    """Files, folders, configs and a busy port the cases refer to as {name}."""
    monkeypatch.chdir(tmp_path)  # a default ./socialguide.db would land here
    monkeypatch.delenv("SOCIALGUIDE_CONFIG", raising=False)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    db = tmp_path / "store" / "socialguide.db"
    db.parent.mkdir()
    shutil.copy(migrated_db, db)
    (tmp_path / "cfg.toml").write_text(f'[store]\nurl = "sqlite:///{db}"\n')
    (tmp_path / "nostore.toml").write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "elsewhere" / "socialguide.db"}"\n')
    (tmp_path / "slack.toml").write_text(f'[store]\nurl = "sqlite:///{db}"\n'
                                         '[slack]\nenabled = true\n')
    (tmp_path / "badtoml.toml").write_text("[store\nurl = 1\n")
    (tmp_path / "latin1.toml").write_bytes('[policy]\nversion = "Ä"\n'.encode("latin-1"))
    (tmp_path / "afile").write_text("not a folder\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "latin1.csv").write_bytes(
        (PEOPLE_HEADER + "a@example.com,Jürgen,,,Eng,UTC\n").encode("cp1252"))
    (tmp_path / "utf16nobom.csv").write_bytes(
        (PEOPLE_HEADER + "a@example.com,A,,,Eng,UTC\n").encode("utf-16-le"))
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "acc-latin1.csv").write_bytes(
        (ACCOUNTS_HEADER + "a@example.com,bluesky,jürgen.bsky.social,HR,1\n").encode("latin-1"))
    (tmp_path / "posts.jsonl").write_text('{"id": "1", "text": "hello"}\n')
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        yield {"tmp": str(tmp_path), "db": str(db), "busy": str(busy.getsockname()[1])}
    finally:
        busy.close()


CASES = [
    # people import: paths, encodings, contents, state
    Case("people-missing", ["people", "import", "{tmp}/missing.csv", "-c", "{tmp}/cfg.toml"],
         ["missing.csv: file not found"]),
    Case("people-folder", ["people", "import", "{tmp}/folder", "-c", "{tmp}/cfg.toml"],
         ["folder: is a directory"]),
    Case("people-latin1", ["people", "import", "{tmp}/latin1.csv", "-c", "{tmp}/cfg.toml"],
         ["latin1.csv:2: not UTF-8", "UTF-16 with BOM"]),
    Case("people-utf16-no-bom", ["people", "import", "{tmp}/utf16nobom.csv", "-c",
                                 "{tmp}/cfg.toml"],
         ["utf16nobom.csv: looks like UTF-16 without a byte-order mark"]),
    Case("people-empty", ["people", "import", "{tmp}/empty.csv", "-c", "{tmp}/cfg.toml"],
         ["empty.csv:1: the file is empty"]),
    Case("people-no-store", ["people", "import", "{tmp}/empty.csv", "-c", "{tmp}/nostore.toml"],
         ["empty.csv:1"]),
    Case("people-bad-config", ["people", "import", "{tmp}/empty.csv", "-c", "{tmp}/badtoml.toml"],
         ["badtoml.toml: not valid TOML"]),
    Case("people-missing-config", ["people", "import", "{tmp}/empty.csv", "-c", "{tmp}/no.toml"],
         ["no.toml: config file not found"]),
    Case("people-config-is-folder", ["people", "import", "{tmp}/empty.csv", "-c", "{tmp}/folder"],
         ["'--config'", "folder"], usage=True),
    # accounts
    Case("accounts-import-missing", ["accounts", "import", "{tmp}/nope.csv", "-c",
                                     "{tmp}/cfg.toml"], ["nope.csv: file not found"]),
    Case("accounts-import-folder", ["accounts", "import", "{tmp}/folder", "-c", "{tmp}/cfg.toml"],
         ["folder: is a directory"]),
    Case("accounts-import-latin1", ["accounts", "import", "{tmp}/acc-latin1.csv", "-c",
                                    "{tmp}/cfg.toml"], ["acc-latin1.csv:2: not UTF-8"]),
    Case("accounts-list-no-store", ["accounts", "list", "-c", "{tmp}/nostore.toml"],
         ["no database at {tmp}/elsewhere/socialguide.db", "db upgrade --config"],
         store_must_not_appear=True),
    Case("accounts-list-bad-format", ["accounts", "list", "--format", "xml", "-c",
                                      "{tmp}/cfg.toml"], ["'--format'", "xml"], usage=True),
    Case("accounts-withdraw-unknown", ["accounts", "withdraw", "--platform", "bluesky",
                                       "--handle", "ghost.bsky.social", "-c", "{tmp}/cfg.toml"],
         ["no bluesky account 'ghost.bsky.social'"]),
    # report: the README's line without --config must not invent ./socialguide.db
    Case("report-no-config", ["report", "--since", "90d", "-o", "report.html"],
         ["no database at {tmp}/socialguide.db", "bundled default", "--config",
          "SOCIALGUIDE_CONFIG"], store_must_not_appear=True),
    Case("report-env-config", ["report", "--since", "90d", "-o", "report.html"],
         ["no database at {tmp}/elsewhere/socialguide.db", "nostore.toml"],
         env={"SOCIALGUIDE_CONFIG": "{tmp}/nostore.toml"}, store_must_not_appear=True),
    Case("report-missing-folder", ["report", "-o", "{tmp}/nowhere/report.html", "-c",
                                   "{tmp}/cfg.toml"],
         ["-o {tmp}/nowhere/report.html: folder {tmp}/nowhere does not exist"]),
    Case("report-unwritable", ["report", "-o", "/sys/report.html", "-c", "{tmp}/cfg.toml"],
         ["-o /sys/report.html: cannot write"]),
    Case("report-bad-suffix", ["report", "-o", "{tmp}/report.txt", "-c", "{tmp}/cfg.toml"],
         ["report.txt: use a .csv, .json or .html file name"]),
    Case("report-bad-since", ["report", "--since", "soon", "-c", "{tmp}/cfg.toml"], ["since"]),
    # audit log
    Case("log-verify-garbage-head", ["log", "verify", "--head", "garbage", "-c", "{tmp}/cfg.toml"],
         ["--head 'garbage': malformed head", "ID:HASH"]),
    Case("log-verify-half-head", ["log", "verify", "--head", "12:abc", "-c", "{tmp}/cfg.toml"],
         ["--head '12:abc': malformed head"]),
    Case("log-verify-no-store", ["log", "verify", "-c", "{tmp}/nostore.toml"],
         ["no database at"], store_must_not_appear=True),
    Case("log-head-no-store", ["log", "head", "-c", "{tmp}/nostore.toml"], ["no database at"]),
    # users and tokens
    Case("users-add-bad-role", ["users", "add", "x", "--role", "boss", "-c", "{tmp}/cfg.toml"],
         ["unknown role 'boss'"]),
    Case("users-disable-unknown", ["users", "disable", "ghost", "-c", "{tmp}/cfg.toml"],
         ["no user 'ghost'"]),
    Case("users-reset-unknown", ["users", "reset-password", "ghost", "-c", "{tmp}/cfg.toml"],
         ["no user 'ghost'"]),
    Case("users-add-password-env-unset", ["users", "add", "c", "--role", "compliance",
                                          "--password-env", "SG_UNSET_PW", "-c", "{tmp}/cfg.toml"],
         ["environment variable SG_UNSET_PW is not set"]),
    Case("users-list-no-store", ["users", "list", "-c", "{tmp}/nostore.toml"], ["no database at"]),
    Case("tokens-list-no-store", ["tokens", "list", "-c", "{tmp}/nostore.toml"],
         ["no database at"]),
    Case("tokens-revoke-unknown", ["tokens", "revoke", "ghost", "-c", "{tmp}/cfg.toml"],
         ["no token named 'ghost'"]),
    # config check
    Case("config-check-missing", ["config", "check", "{tmp}/missing.toml"],
         ["missing.toml: config file not found"]),
    Case("config-check-folder", ["config", "check", "{tmp}/folder"], ["folder"], usage=True),
    Case("config-check-bad-toml", ["config", "check", "{tmp}/badtoml.toml"],
         ["badtoml.toml: not valid TOML", "line 1"]),
    Case("config-check-latin1", ["config", "check", "{tmp}/latin1.toml"], ["latin1.toml"]),
    # serving and running
    Case("web-busy-port", ["web", "--port", "{busy}", "-c", "{tmp}/cfg.toml"],
         ["cannot listen on 127.0.0.1:{busy}", "--port"]),
    Case("web-no-store", ["web", "--port", "0", "-c", "{tmp}/nostore.toml"], ["no database at"]),
    Case("run-no-store", ["run", "--once", "-c", "{tmp}/nostore.toml"], ["no database at"]),
    Case("slack-deliver-no-store", ["slack", "deliver", "-c", "{tmp}/nostore.toml"],
         ["no database at"]),
    Case("slack-outbox-no-store", ["slack", "outbox", "-c", "{tmp}/nostore.toml"],
         ["no database at"]),
    Case("slack-digest-no-store", ["slack", "digest", "-c", "{tmp}/nostore.toml"],
         ["no database at"]),
    Case("slack-requeue-unknown", ["slack", "requeue", "999", "-c", "{tmp}/cfg.toml"],
         ["not dead-lettered (or unknown): [999]"]),
    Case("slack-check-no-token", ["slack", "check", "-c", "{tmp}/slack.toml"],
         ["SLACK_BOT_TOKEN"]),
    # the database itself
    Case("db-upgrade-bad-url", ["db", "upgrade", "-c", "{tmp}/badurl.toml"],
         ["[store] url is not a database URL"]),
    Case("db-upgrade-under-a-file", ["db", "upgrade", "-c", "{tmp}/underfile.toml"],
         ["{tmp}/afile"]),
    Case("demo-dir-is-a-file", ["demo", "--dir", "{tmp}/afile"],
         ["--dir {tmp}/afile: is a file, not a folder"]),
    # rules, model
    Case("rules-test-missing-path", ["rules", "test", "{tmp}/nope.yaml"],
         ["nope.yaml: rule path not found"]),
    Case("model-eval-missing-config", ["model", "eval", "-c", "{tmp}/no.toml"],
         ["no.toml: config file not found"]),
    # scan (its fixes are in scan.py): a folder as input, output into a missing folder
    Case("scan-missing", ["scan", "{tmp}/missing.jsonl"], ["missing.jsonl"]),
    Case("scan-folder", ["scan", "{tmp}/folder"], ["folder"]),
    Case("scan-output-missing-folder", ["scan", "{tmp}/posts.jsonl", "-o",
                                        "{tmp}/nowhere/out.jsonl"], ["nowhere"]),
]


def _fill(value: str, place: dict[str, str]) -> str:
    return value.format(**place)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id if isinstance(c, Case) else None)
def test_bad_input_gets_one_clear_line(case: Case, place: dict[str, str],
                                       tmp_path: Path) -> None:
    (tmp_path / "badurl.toml").write_text('[store]\nurl = "not a url at all"\n')
    (tmp_path / "underfile.toml").write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "afile" / "x.db"}"\n')
    args = [_fill(a, place) for a in case.args]
    env = {k: _fill(v, place) for k, v in case.env.items()}
    res = CliRunner().invoke(app, args, env=env or None)
    out = res.output
    assert res.exit_code != 0, out
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in out
    for name in case.names:
        assert _fill(name, place) in out, f"{case.id}: {_fill(name, place)!r} not in:\n{out}"
    if not case.usage:
        lines = [ln for ln in res.stderr.splitlines() if ln.strip() and not ln.startswith(
            ("store: ", "─", "warning: "))]
        assert len(lines) == 1, f"{case.id}: more than one line:\n{res.stderr}"
    if case.store_must_not_appear:
        assert not (tmp_path / "socialguide.db").exists()
        assert not (tmp_path / "elsewhere").exists()


@pytest.fixture
def request_cleanup() -> Iterator[list]:
    todo: list = []
    yield todo
    for fn in todo:
        fn()


def test_unreadable_files_are_named(request_cleanup: list) -> None:
    """Permission denied on a file given by name (people import, config check)."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="sg-perm-"))  # in /tmp: user nobody can reach it
    base.chmod(0o755)
    request_cleanup.append(lambda: shutil.rmtree(base, ignore_errors=True))
    secret_csv = base / "people.csv"
    secret_csv.write_text(PEOPLE_HEADER)
    secret_csv.chmod(0o000)
    locked_cfg = base / "locked.toml"
    locked_cfg.write_text("[policy]\n")
    locked_cfg.chmod(0o000)
    cfg = base / "cfg.toml"
    cfg.write_text(f'[store]\nurl = "sqlite:///{base / "db.sqlite"}"\n')
    cfg.chmod(0o644)

    # Root reads a chmod 000 file: as root, the commands run without the capabilities that
    # override file permissions (setpriv, from util-linux).
    caps = "-dac_override,-dac_read_search"
    drop = ["setpriv", "--bounding-set", caps, "--inh-caps", caps] if os.geteuid() == 0 else []

    def as_user(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*drop, sys.executable, "-m", "monitor", *args],
                              capture_output=True, text=True, cwd=base, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})

    res = as_user("people", "import", str(secret_csv), "-c", str(cfg))
    assert res.returncode != 0, res.stderr
    assert str(secret_csv) in res.stderr, res.stderr
    assert "permission denied" in res.stderr or "not readable" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    res = as_user("config", "check", str(locked_cfg))
    assert res.returncode == 2, res.stderr
    assert str(locked_cfg) in res.stderr, res.stderr
    assert "ermission denied" in res.stderr or "not readable" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
