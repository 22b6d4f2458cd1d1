"""Credential formats and phrasings beyond a name next to its value, and what stays benign."""

from __future__ import annotations

import base64
import zlib

import pytest

from monitor.pipeline.rules.validators import (
    _BASE62,
    base64_secret,
    crc32_base62,
    crc32_split,
)


def _github_token(random_part: str, prefix: str = "ghp") -> str:
    """A token with the right CRC32 suffix, built the way GitHub builds them."""
    assert len(random_part) == 30
    n = zlib.crc32(random_part.encode())
    suffix = ""
    for _ in range(6):
        n, r = divmod(n, 62)
        suffix = _BASE62[r] + suffix
    return f"{prefix}_{random_part}{suffix}"


TOKEN = _github_token("Qm7rXw2LpZ9vKt4NcB8sHd3JfG6yRa")


def _credential_rules(engine, text: str) -> set[str]:
    return {f.source for f in engine.analyse(text).findings
            if f.category == "credentials" and f.score >= 0.5 and not f.shadow}


def test_a_token_read_out_in_groups_keeps_its_checksum() -> None:
    spaced = TOKEN[:4] + " " + " ".join(TOKEN[i:i + 4] for i in range(4, 40, 4))
    assert crc32_base62(spaced)
    assert not crc32_base62(spaced[:-1] + ("A" if spaced[-1] != "A" else "B"))


def test_a_split_token_is_joined_only_when_the_checksum_agrees() -> None:
    first, second = TOKEN[:18], TOKEN[18:]
    assert crc32_split(f"{first}\nand the rest, glued on: {second}")
    assert crc32_split(f"{first} (1/2)\nthen {second[:10]} {second[10:]}")
    wrong = second[:-1] + ("A" if second[-1] != "A" else "B")
    assert not crc32_split(f"{first}\nand the rest, glued on: {wrong}")
    assert not crc32_split(f"{first}\nno second half here at all")


def test_inline_base64_is_a_secret_only_when_it_decodes_to_one_password() -> None:
    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    assert base64_secret(b64("Orchid!lake2291"))
    assert not base64_secret(b64("hello world, nothing here"))
    assert not base64_secret(b64("lowercase"))
    assert not base64_secret("not base64 at all!")


@pytest.mark.parametrize("text", [
    f"reading it out: {TOKEN[:4]} " + " ".join(TOKEN[i:i + 4] for i in range(4, 40, 4)),
    f"top half {TOKEN[:20]}\nbottom half, no space between: {TOKEN[20:]}",
    "export SMTP_PASSWORD=$(echo " + base64.b64encode(b"Birch#tide7730").decode() + " | base64 -d)",
    "guest network card: WIFI:T:WPA;S:Atelier-5G;P:Copper!fern8812;;",
    "jdbc:oracle:thin:ledger/Qv8#mZ2rw@//ora01.corp.lan:1521/GL",
    "SQLALCHEMY_DATABASE_URI=postgresql+asyncpg://api:Rk7!pLq29z@pg.corp.lan/app",
    "snowflake://etl:Wd3$kPz71q@org-acct/RAW/PUBLIC?warehouse=ETL_WH",
    '<add key="StorageApiSecret" value="T9kq2LmZ7xPw4Rv8Bn3C" />',
    'variable "client_secret" {\n  default = "Hq8zL2mW7xRv4Tp9Kc3N"\n}',
    "define('SECURE_AUTH_SALT', 'Vb7!kQ2zLm9Xw4Rt8Pn3');",
    "the alert hook is https://oapi.dingtalk.com/robot/send?access_token="
    "5c1f0e9a7b3d2c4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e",
    "dsn = https://0f3a9c7e5b1d4f2a8c6e0b9d7f5a3c1e@o4501.ingest.sentry.io/4504",
    "Il token di Hetzner è Zk8mQ2pLx7vR4tN9wB3cY6dH1jS5aE0fKq8mZ2pLx7vR4tN9wB3cY6dH1jS5aE0f, aiuto",
    "mine works fine with 4a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b, tell me if Datadog still complains",
    "Wachtwoord van de gedeelde printer op kantoor is Reiger!bos4471",
    "倉庫システムのパスワードは Kumo-Ame-5520 です",
])
def test_formats_and_phrasings_are_caught(engine, text) -> None:
    assert _credential_rules(engine, text), text


@pytest.mark.parametrize("text", [
    # the same shapes without a live secret
    f"{TOKEN[:-1]}{'A' if TOKEN[-1] != 'A' else 'B'} is a fixture whose checksum is wrong",
    "export GREETING=$(echo aGVsbG8gd29ybGQ= | base64 -d)",
    "the QR payload format is WIFI:T:WPA;S:<ssid>;P:<password>;;",
    "jdbc:oracle:thin:scott/tiger@//localhost:1521/XEPDB1 as in the Oracle samples",
    'variable "api_key" {\n  default = "${var.from_vault}"\n}',
    "define('AUTH_KEY', 'put your unique phrase here');",
    # hex ids and hashes next to no provider, or next to a checksum word
    "Fixed in commit 4a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b, see the Datadog changelog",
    "request 4a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b failed at 14:02",
    # test-mode and encrypted values assigned to secret names
    'SANDBOX_KEY = "sandbox_Qm7rXw2LpZ9vKt4NcB8sHd3JfG6yRa"',
    'PAYMENTS_KEY = "FLWSECK_TEST-9c1e3b5d7f9a1c3e5b4a7c9e1b3d5f7a-X"',
    "db_password: ENC[AES256_GCM,data:Qm7rXw2LpZ9v,iv:Kt4NcB8sHd3JfG6yRa==,type:str]",
    "encryptedData:\n  password: AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq" + "Qm7rXw2LpZ9vKt4NcB8sHd3JfG6yRa" * 2,
])
def test_look_alikes_stay_benign(engine, text) -> None:
    assert not _credential_rules(engine, text), text
