"""``socialguide rules test|lint|explain`` as a policy owner uses them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app

runner = CliRunner()
BROKEN_EXAMPLE = """\
rules:
  - id: test.demo
    title: Demo rule
    category: offensive
    severity: low
    status: stable
    owner: Test
    approved_by: Test
    review_by: 2025-01-31
    policy_section: "SMP §0 Test"
    guidance: Consider this.
    falsepositives: [none]
    match:
      phrases: [wombat]
    examples:
      match: [a wombat, "WOMBAT!"]
      no_match: [a cat, a wombat again]
"""


def _file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "demo.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_rules_test_passes_on_the_bundled_packs() -> None:
    result = runner.invoke(app, ["rules", "test"])
    assert result.exit_code == 0, result.output
    assert "examples passed" in result.output


def test_rules_test_names_rule_file_and_failing_example(tmp_path) -> None:
    path = _file(tmp_path, BROKEN_EXAMPLE)
    result = runner.invoke(app, ["rules", "test", str(path)])
    assert result.exit_code == 1
    assert f"{path}:17" in result.output and "test.demo" in result.output
    assert "'a wombat again'" in result.output


def test_rules_lint_lists_overdue_rules_as_warnings(tmp_path) -> None:
    path = _file(tmp_path, BROKEN_EXAMPLE)
    result = runner.invoke(app, ["rules", "lint", str(path)])
    assert result.exit_code == 0, result.output
    assert "overdue for review" in result.output and "test.demo" in result.output
    assert "1 overdue" in result.output


def test_rules_lint_refuses_broken_files_with_exit_2(tmp_path) -> None:
    path = _file(tmp_path, BROKEN_EXAMPLE.replace("category: offensive", "category: rudeness"))
    result = runner.invoke(app, ["rules", "lint", str(path)])
    assert result.exit_code == 2
    assert f"{path}:4" in result.output and "category" in result.output


def test_rules_lint_passes_on_the_bundled_packs() -> None:
    result = runner.invoke(app, ["rules", "lint"])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_rules_explain_shows_rule_span_and_why() -> None:
    text = "you are an 1d10t, key AKIAUJZDE8GXD6NCF10E"
    result = runner.invoke(app, ["rules", "explain", text])
    assert result.exit_code == 0, result.output
    assert "cred.aws-access-key" in result.output and "off.insult-at-person" in result.output
    assert "[22:42]" in result.output and "pattern match.regex[0]" in result.output
    assert "'you are an 1d10t'" in result.output


def test_rules_explain_shows_suppression(tmp_path) -> None:
    result = runner.invoke(
        app, ["rules", "explain", "--example-policy", "Globex is a scam, views are my own"]
    )
    assert result.exit_code == 0, result.output
    assert "suppressed" in result.output and "protect.disclaimer" in result.output


def test_scan_refuses_to_start_with_a_broken_rule_file(tmp_path) -> None:
    path = _file(tmp_path, BROKEN_EXAMPLE.replace("    title: Demo rule\n", "    titel: Demo rule\n"))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "db.sqlite"}"\n[rules]\npaths = ["{path}"]\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["scan", "--config", str(config), "-"], input='{"id":"1","text":"hi"}\n')
    assert result.exit_code == 2
    assert f"{path}:3" in result.output and "titel" in result.output
