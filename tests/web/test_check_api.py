"""``POST /api/v1/check`` over real HTTP (uvicorn on 127.0.0.1): tokens, bad bodies, limits."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli import app as cli
from monitor.config import Settings
from monitor.guidance.draft_check import DraftChecker
from monitor.store import Store
from monitor.store.api_tokens import add_token, revoke_token
from monitor.store.schema import ApiTokenRow, DraftCheckCountRow
from monitor.web import create_app
from tests.check_support import AWS_KEY, check_settings, exploding_pipeline, serving

runner = CliRunner()


@dataclass
class Api:
    base: str
    token: str
    other: str
    settings: Settings
    store: Store

    def post(self, body: object = None, *, token: str | None = "default",
             content: bytes | None = None, ctype: str = "application/json") -> httpx.Response:
        headers = {"Content-Type": ctype}
        if token is not None:
            headers["Authorization"] = f"Bearer {self.token if token == 'default' else token}"
        data = content if content is not None else json.dumps(body).encode()
        return httpx.post(f"{self.base}/api/v1/check", content=data, headers=headers,
                          timeout=30)


def _api(tmp_db_url: str, **check: object) -> Iterator[Api]:
    settings = check_settings(tmp_db_url, check=check)
    store = Store(settings.store.url)
    with store.session() as s:
        _, token = add_token(s, "publisher")
        _, other = add_token(s, "scheduler")
    with serving(create_app(settings, store)) as base:
        yield Api(base, token, other, settings, store)
    store.dispose()


@pytest.fixture
def api(tmp_db_url: str) -> Iterator[Api]:
    yield from _api(tmp_db_url, max_chars=1000, rate_per_minute=1000)


def test_a_valid_token_gets_findings_in_the_scan_contract_plus_guidance(api: Api) -> None:
    r = api.post({"text": f"new deploy key {AWS_KEY} enjoy", "platform": "bluesky"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["flagged"] is True and body["request_id"] == r.headers["X-Request-Id"]
    (f,) = body["findings"]
    assert f["category"] == "credentials" and f["source"] == "rule:cred.aws-access-key"
    assert f["spans"] == [[15, 35]] and f["severity"] and 0 < f["score"] <= 1
    assert f["guidance"] and f["policy_section"] == "SMP §4.2 Credentials"
    assert f["excerpt"] == "AKIA…F10E" and f["training_url"].startswith("https://")
    assert f["suggestion"]["text"] == "new deploy key [key removed] enjoy"
    assert AWS_KEY not in r.text
    assert r.headers["cache-control"] == "no-store"

    clean = api.post({"text": "Sunny day, great coffee"})
    assert clean.status_code == 200
    assert clean.json()["flagged"] is False and clean.json()["findings"] == []
    assert clean.json()["message"] == "Nothing in the policy stands against this draft."
    with api.store.session() as s:
        counts = {(r.category, r.drafts) for r in s.scalars(select(DraftCheckCountRow))}
    assert counts == {("*", 2), ("credentials", 1)}


def test_missing_unknown_and_wrong_scheme_tokens_are_401(api: Api) -> None:
    r = api.post({"text": "hello"}, token=None)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    assert "missing token" in r.json()["error"]
    r = api.post({"text": "hello"}, token="sgk_" + "x" * 43)
    assert r.status_code == 401 and "unknown or has been revoked" in r.json()["error"]
    r = httpx.post(f"{api.base}/api/v1/check", json={"text": "hello"},
                   headers={"Authorization": f"Basic {api.token}"})
    assert r.status_code == 401


def test_revocation_takes_effect_on_the_next_request(api: Api) -> None:
    assert api.post({"text": "hello"}).status_code == 200
    with api.store.session() as s:
        revoke_token(s, "publisher")
    r = api.post({"text": "hello"})
    assert r.status_code == 401 and "revoked" in r.json()["error"]
    assert api.post({"text": "hello"}, token=api.other).status_code == 200


@pytest.mark.parametrize(("content", "ctype", "message"), [
    (b"", "application/json", "the body is empty"),
    (b"{\"text\": ", "application/json", "not valid JSON (Expecting value at line 1, column 10)"),
    (b"[1, 2]", "application/json", "must be a JSON object, not an array"),
    (b"{}", "application/json", "missing required field 'text'"),
    (b"{\"text\": 42}", "application/json", "field 'text' must be a string, not a number"),
    (b"{\"text\": \"hi\", \"author\": \"x\"}", "application/json", "unknown field 'author'"),
    (b"{\"text\": \"hi\", \"platform\": 3}", "application/json", "'platform' must be a string"),
    (b"{\"text\": \"   \"}", "application/json", "the draft is empty"),
    (b"{\"text\": \"caf\xe9\"}", "application/json", "not valid UTF-8 (byte 0xe9 at offset 13)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "application/json", "the body is binary"),
    (b"{\"text\": \"a\\u0000b\"}", "application/json", "binary data (control character U+0000"),
    (b"text=hello", "application/x-www-form-urlencoded", "Content-Type: application/json"),
    (b"{\"text\": \"hi\"}", "application/json; charset=latin-1", "must be UTF-8, not latin-1"),
])
def test_bad_bodies_are_400_naming_the_problem(api: Api, content: bytes, ctype: str,
                                               message: str) -> None:
    r = api.post(content=content, ctype=ctype)
    assert r.status_code == 400, r.text
    assert message in r.json()["error"]
    assert r.json()["request_id"] == r.headers["X-Request-Id"]


def test_oversize_drafts_and_bodies_are_400_naming_the_limit(api: Api) -> None:
    r = api.post({"text": "a" * 1001})
    assert r.status_code == 400
    assert r.json()["error"] == "the draft is 1,001 characters long; the limit is 1,000"
    assert api.post({"text": "a" * 1000}).status_code == 200
    huge = json.dumps({"text": "b" * 20_000}).encode()  # over 1,000 * 12 + 4,096 bytes
    r = api.post(content=huge)
    assert r.status_code == 400 and "the limit is 16,096 bytes" in r.json()["error"]


def test_the_default_limit_is_40000_characters(tmp_db_url: str) -> None:
    for api in _api(tmp_db_url, rate_per_minute=1000):
        assert api.post({"text": "word " * 8000}).status_code == 200  # 40,000 characters
        r = api.post({"text": "word " * 8000 + "x"})
        assert r.status_code == 400 and "the limit is 40,000" in r.json()["error"]


def test_the_rate_limit_is_per_token_with_retry_after(tmp_db_url: str) -> None:
    for api in _api(tmp_db_url, rate_per_minute=3):
        assert [api.post({"text": "hi"}).status_code for _ in range(3)] == [200, 200, 200]
        r = api.post({"text": "hi"})
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) >= 1
        assert "3 requests per minute" in r.json()["error"]
        # Another integration has its own allowance.
        assert api.post({"text": "hi"}, token=api.other).status_code == 200


def test_a_pipeline_failure_is_500_with_a_request_id_and_no_text_logged(
    api: Api, caplog: pytest.LogCaptureFixture,
) -> None:
    broken = DraftChecker(api.settings, exploding_pipeline)
    with serving(create_app(api.settings, api.store, checker=broken)) as base:
        with caplog.at_level(logging.DEBUG):
            r = httpx.post(f"{base}/api/v1/check", json={"text": "quokka-lantern-5512 draft"},
                           headers={"Authorization": f"Bearer {api.token}"}, timeout=30)
    assert r.status_code == 500
    rid = r.json()["request_id"]
    assert rid == r.headers["X-Request-Id"] and rid in r.json()["error"]
    assert rid in caplog.text and "RuntimeError" in caplog.text
    assert "quokka" not in caplog.text and "quokka" not in r.text


def test_the_openapi_schema_documents_the_endpoint(api: Api) -> None:
    r = httpx.get(f"{api.base}/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    op = doc["paths"]["/check"]["post"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["text"] and set(schema["properties"]) == {"text", "platform"}
    assert {"200", "400", "401", "429", "500"} <= set(op["responses"])
    assert op["security"] == [{"HTTPBearer": []}]
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert httpx.get(f"{api.base}/api/v1/nothing").json()["error"].startswith("no such")


def test_tokens_cli_shows_a_token_once_and_stores_only_its_hash(
    tmp_path: object, tmp_db_url: str, fresh_store: Store,
) -> None:
    from pathlib import Path

    cfg = Path(str(tmp_path)) / "config.toml"
    cfg.write_text(f'[store]\nurl = "{tmp_db_url}"\n')
    added = runner.invoke(cli, ["tokens", "add", "buffer-prod", "--config", str(cfg)])
    assert added.exit_code == 0, added.output
    token = added.stdout.strip()
    assert token.startswith("sgk_") and len(token) > 40
    listed = runner.invoke(cli, ["tokens", "list", "--config", str(cfg)])
    assert listed.exit_code == 0 and "buffer-prod" in listed.stdout and "live" in listed.stdout
    assert token not in listed.stdout and token[:10] in listed.stdout
    again = runner.invoke(cli, ["tokens", "add", "buffer-prod", "--config", str(cfg)])
    assert again.exit_code == 1 and "already exists" in again.output
    with fresh_store.session() as s:
        (row,) = s.scalars(select(ApiTokenRow))
        assert token not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
    revoked = runner.invoke(cli, ["tokens", "revoke", "buffer-prod", "--config", str(cfg)])
    assert revoked.exit_code == 0
    listed = runner.invoke(cli, ["tokens", "list", "--config", str(cfg)])
    assert "revoked" in listed.stdout
    twice = runner.invoke(cli, ["tokens", "revoke", "buffer-prod", "--config", str(cfg)])
    assert twice.exit_code == 1 and "already revoked" in twice.output
    missing = runner.invoke(cli, ["tokens", "revoke", "nope", "--config", str(cfg)])
    assert missing.exit_code == 1 and "no token named" in missing.output
