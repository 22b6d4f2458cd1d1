"""Secrets that reach a log line (message or traceback) come out redacted, in both formats."""

from __future__ import annotations

import json
import logging

import pytest

from monitor.logs import configure_logging

PRIVATE_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
               "-----END OPENSSH PRIVATE KEY-----")
SECRETS = {
    "aws": "AKIAZ4QW7PL2XR5NB3TD",
    "github": "ghp_R2d2C3poBb8Y0da1Wookie5Han7Solo9Leia",
    "slack": "xoxb-2718281828-3141592653-Qw3rTy8uIoPaSdFgHjKl",
    "stripe": "sk_live_51HxZq9LmNoPqRsTuVwXy",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl",
    "url_password": "Tr0ub4dor-and-3",
    "assigned": "correct-horse-battery",
    "key_line": "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
    "env": "env-only-secret-value-42",
}


@pytest.fixture(autouse=True)
def _restore_logging():
    """configure_logging changes the process-wide ``monitor`` logger; put it back after."""
    logger = logging.getLogger("monitor")
    level, handlers = logger.level, list(logger.handlers)
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


def _lines(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
           json_format: bool) -> str:
    monkeypatch.setenv("SOCIALGUIDE_TEST_TOKEN", SECRETS["env"])
    configure_logging("INFO", json_format=json_format)
    log = logging.getLogger("monitor.test")
    log.warning("connect postgresql+psycopg://app:%s@db.internal:5432/sg failed",
                SECRETS["url_password"])
    log.warning("keys %s %s %s %s", SECRETS["aws"], SECRETS["github"], SECRETS["slack"],
                SECRETS["stripe"])
    log.warning("Authorization: Bearer %s; password=%s", SECRETS["jwt"], SECRETS["assigned"])
    log.warning("pasted:\n%s", PRIVATE_KEY)
    log.warning("from the environment: %s", SECRETS["env"])
    try:
        raise RuntimeError(f"upstream said {SECRETS['github']} in {PRIVATE_KEY}")
    except RuntimeError:
        log.exception("failed")
    return capsys.readouterr().err


@pytest.mark.parametrize("json_format", [False, True], ids=["plain", "json"])
def test_known_secret_formats_never_reach_the_log(monkeypatch, capsys, json_format) -> None:
    out = _lines(monkeypatch, capsys, json_format)
    for name, value in SECRETS.items():
        assert value not in out, name
    assert "PRIVATE KEY-----\n" not in out and "[redacted]" in out
    # What is not secret stays readable.
    assert "db.internal:5432/sg failed" in out and "from the environment" in out
    assert "RuntimeError: upstream said" in out
    if json_format:
        assert all(json.loads(line)["level"] for line in out.splitlines() if line.startswith("{"))
