"""Config: loading, clear errors, the example file documents every key, secrets stay out."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import Settings, load_settings, secret
from monitor.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        key = field.alias or name
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out |= _keys(ann, f"{prefix}{key}.")
        else:
            out.add(f"{prefix}{key}")
    return out


def _doc_keys(data: dict, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for k, v in data.items():
        if isinstance(v, dict) and not _is_mapping_value(prefix + k):
            out |= _doc_keys(v, f"{prefix}{k}.")
        else:
            out.add(f"{prefix}{k}")
    return out


def _is_mapping_value(key: str) -> bool:
    # Keys whose value is itself a table of arbitrary names (per-category maps).
    return key in _keys(Settings) and not any(
        k.startswith(key + ".") for k in _keys(Settings)
    )


def test_example_config_is_valid_and_documents_every_key() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.store.url.startswith("sqlite:///")
    documented = _doc_keys(tomllib.loads(EXAMPLE.read_text()))
    missing = _keys(Settings) - documented
    assert not missing, f"config.example.toml lacks keys: {sorted(missing)}"


def test_every_example_key_has_a_comment() -> None:
    lines = EXAMPLE.read_text().splitlines()
    comments = " ".join(ln for ln in lines if ln.strip().startswith("#"))
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.startswith("["):
            continue
        key = stripped.split("=", 1)[0].strip()
        # Documented by a comment just above, a trailing comment, or a shared comment that
        # names the key (the [platforms.*] keys are explained once).
        above = [w.strip() for w in lines[max(0, i - 3) : i]]
        assert "#" in line or any(w.startswith("#") for w in above) or key in comments, (
            f"config.example.toml line {i + 1}: key '{key}' has no comment"
        )


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.toml: config file not found"):
        load_settings(tmp_path / "nope.toml")


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text('[slack]\nbase_url = "http://127.0.0.1:1/"\nbot_tokn_env = "X"\n')
    with pytest.raises(ConfigError) as exc:
        load_settings(p)
    assert str(p) in str(exc.value)
    assert "slack.bot_tokn_env" in str(exc.value)
    assert "unknown key" in str(exc.value)


def test_wrong_type_says_what_was_expected(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text("[guidance]\nweekly_budget = \"lots\"\n")
    with pytest.raises(ConfigError, match=r"guidance.weekly_budget.*valid integer"):
        load_settings(p)


def test_bad_toml_is_a_config_error(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text("[store\nurl = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(p)


def test_implicit_config_toml_in_cwd_is_read(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[policy]\nversion = "9.9"\n')
    assert load_settings(cwd=tmp_path).policy.version == "9.9"
    assert load_settings(cwd=tmp_path / "elsewhere").policy.version == "2026.1"


def test_config_check_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["config", "check", str(EXAMPLE)])
    assert ok.exit_code == 0, ok.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[store]\nurl = 3\n")
    res = runner.invoke(app, ["config", "check", str(bad)])
    assert res.exit_code == 2
    assert "store.url" in res.output
    missing = runner.invoke(app, ["config", "check", str(tmp_path / "missing.toml")])
    assert missing.exit_code == 2
    assert "config file not found" in missing.output


def test_secret_comes_from_environment_and_is_never_in_messages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SG_TEST_TOKEN", "xoxb-very-secret-value")
    assert secret("SG_TEST_TOKEN", what="Slack bot token") == "xoxb-very-secret-value"
    monkeypatch.delenv("SG_TEST_TOKEN")
    with pytest.raises(ConfigError) as exc:
        secret("SG_TEST_TOKEN", what="Slack bot token")
    assert "SG_TEST_TOKEN" in str(exc.value)
    assert "xoxb" not in str(exc.value)


def test_settings_have_no_secret_values() -> None:
    # Only names of environment variables may appear; no field may hold a token itself.
    for key in _keys(Settings):
        leaf = key.rsplit(".", 1)[-1]
        if any(w in leaf for w in ("token", "secret", "password")):
            assert leaf.endswith("_env"), f"{key} would hold a secret in the config file"


def test_config_check_reports_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[store]\nurl = 3\n[slack]\nmode = "sockets"\nbogus = 1\n'
                   '[guidance]\nweekly_budget = -1\n')
    res = CliRunner().invoke(app, ["config", "check", str(bad)])
    assert res.exit_code == 2
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 4, res.stderr
    for key in ("store.url", "slack.mode", "slack.bogus", "guidance.weekly_budget"):
        assert any(f"{bad}: key '{key}'" in line for line in errors), key
    assert "more problem" not in res.stderr


def test_config_check_names_unset_secret_variables_never_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[slack]\nenabled = true\nbot_token_env = "SG_T_BOT"\n'
                   'app_token_env = "SG_T_APP"\n[platforms.reddit]\nenabled = true\n'
                   'client_id_env = "SG_T_RID"\nclient_secret_env = "SG_T_RSECRET"\n')
    for name in ("SG_T_BOT", "SG_T_APP", "SG_T_RID", "SG_T_RSECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SG_T_RID", "reddit-client-id-value")
    res = CliRunner().invoke(app, ["config", "check", str(cfg)])
    assert res.exit_code == 2
    err = res.stderr
    assert "key 'slack.bot_token_env': environment variable SG_T_BOT" in err
    assert "key 'slack.app_token_env': environment variable SG_T_APP" in err
    assert "key 'platforms.reddit.client_secret_env': environment variable SG_T_RSECRET" in err
    assert "SG_T_RID" not in err and "reddit-client-id-value" not in err
    assert "config OK" not in err
    # With the variables set it passes, and no value is ever printed.
    monkeypatch.setenv("SG_T_BOT", "xoxb-bot-secret-value")
    monkeypatch.setenv("SG_T_APP", "xapp-app-secret-value")
    monkeypatch.setenv("SG_T_RSECRET", "reddit-secret-value")
    res = CliRunner().invoke(app, ["config", "check", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "config OK" in res.stderr and "Slack enabled" in res.stderr
    assert not any(v in res.output for v in ("xoxb-bot", "xapp-app", "reddit-secret",
                                            "reddit-client"))


def test_http_mode_needs_the_signing_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            ) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[slack]\nenabled = true\nmode = "http"\nbot_token_env = "SG_T_BOT"\n'
                   'signing_secret_env = "SG_T_SIGN"\n')
    monkeypatch.setenv("SG_T_BOT", "xoxb-1")
    monkeypatch.delenv("SG_T_SIGN", raising=False)
    res = CliRunner().invoke(app, ["config", "check", str(cfg)])
    assert res.exit_code == 2
    assert "key 'slack.signing_secret_env': environment variable SG_T_SIGN" in res.stderr
    assert "app_token_env" not in res.stderr  # socket mode's token is not needed here
