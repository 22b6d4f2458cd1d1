"""``make audit``'s summary: a report where nothing could be checked is not a pass."""

from __future__ import annotations

from pathlib import Path

from tests.security.audit_summary import main, summarise


def test_nothing_checked_says_not_checked():
    text, status = summarise({"dependencies": [
        {"name": "fastapi", "skip_reason": "Dependency not found on PyPI"}]})
    assert status == 0 and "0 packages checked" in text and "NOT CHECKED" in text


def test_a_known_vulnerability_fails_and_is_named():
    text, status = summarise({"dependencies": [
        {"name": "jinja2", "version": "2.0", "vulns": [{"id": "PYSEC-2019-217"}]},
        {"name": "uvicorn", "version": "0.30", "vulns": []}]})
    assert status == 1 and "VULNERABLE jinja2 2.0: PYSEC-2019-217" in text
    assert "2 packages checked" in text


def test_a_clean_report_names_what_it_could_not_check():
    text, status = summarise({"dependencies": [
        {"name": "uvicorn", "version": "0.30", "vulns": []},
        {"name": "torch", "skip_reason": "not on PyPI"}]})
    assert status == 0 and "not checked: torch" in text and "no known vulnerabilities" in text


def test_no_report_at_all_is_a_clear_note(tmp_path: Path, capsys):
    assert main(["x", str(tmp_path / "missing.json")]) == 0
    assert "NOT CHECKED" in capsys.readouterr().out
