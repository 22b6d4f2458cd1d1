"""Passwords in chat without "password is", spelled out, in config with punctuation, and
split-token formats read from the provider rules."""

from __future__ import annotations

import re

import pytest

from monitor.pipeline.rules.validators import (
    bare_password,
    spelled_secret,
    split_formats,
)
from tests.rules.findings import actionable


@pytest.mark.parametrize("text", [
    "pw: Kestrel!dune53 for the build box",
    "ssh deploy@10.9.8.7 pw Marsh#fen2290, it's the bastion",
    "login root Cobalt?reef7781 on the old NAS",
    "creds: backup / Heath!mire4410",
    "[11:20] sam: what was the vpn password\n[11:21] jo: Tamarind$pier64",
    "they reset my account and mine came back as Larch*vale3378, weird",
    "la contraseña Bruma!faro2281, no la cambies",
    "the router pw, spelled out: c o p p e r . w r e n 6 6 1 9",
    "wifi password is k.e.s.t.r.e.l.4.4.1.9",
])
def test_passwords_without_a_copula_are_credentials(engine, text: str) -> None:
    assert actionable(engine, text, "credentials")


@pytest.mark.parametrize("text", [
    "what was the vpn password again? I always forget",
    "pass the remote, Netflix4K is on",
    "login admin and then settings, then users",
    "pw: at least 12 characters and a digit",
    "[11:20] sam: what was the vpn password\n[11:21] jo: ask the helpdesk",
    "my new one is Pixel8Pro and the camera is great",
    "password tips: p a s s w o r d is the worst choice",
    "reset the router and then log in again",
])
def test_password_talk_without_a_value_stays_benign(engine, text: str) -> None:
    assert not actionable(engine, text, "credentials")


def test_bare_password_wants_three_kinds_or_a_long_random_value() -> None:
    assert bare_password("Quartz!river88")
    assert bare_password("kaffee$tulpe7781")
    assert bare_password("q8zl2mw7xrv4tp9k")
    assert not bare_password("river2024")
    assert not bare_password("Abc123456")
    assert not bare_password("v2.14.1-beta")
    assert not bare_password("ops@corp-mail.net1")


def test_spelled_password_joins_single_characters() -> None:
    assert spelled_secret("s a f f r o n . m e a d o w 4 3")
    assert spelled_secret("m.a.r.s.h.f.e.n.2.2")
    assert not spelled_secret("a b c d e f g h")
    assert not spelled_secret("one two three four five six seven eight")


@pytest.mark.parametrize("text", [
    "[signing]\nhmac_key = Wq8!Lm2_zPxR4vTn9#BcKd7YhJs3FgQa",
    "[cache]\nredis_auth = \"Moor#kelp-5512\"",
    "session_secret = Tq7$Lm2!Zp9%Xw4^Rv8",
    "[db]\npassword = Sedge#7731!ray",
])
def test_config_values_keep_their_punctuation(engine, text: str) -> None:
    assert actionable(engine, text, "credentials")


def test_sandbox_tokens_stay_benign_with_punctuation(engine) -> None:
    text = 'SANDBOX_KEY = "access_token$sandbox$4kq2zm8rtx7lp9wn$0b6d1e9c3a5f7e2d8c4b6a0f1e3d5c7b"'
    assert not actionable(engine, text, "credentials")


@pytest.mark.parametrize("ch", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])
def test_invisible_characters_inside_a_key_are_ignored(engine, ch: str) -> None:
    key = "AKIAUJZDE8GXD6NCF10E"
    broken = ch.join([key[:5], key[5:11], key[11:16], key[16:]])
    assert actionable(engine, f"new key id {broken} for the uploader", "credentials")


def test_a_kubernetes_secret_data_block_is_decoded() -> None:
    from monitor.pipeline.rules.validators import base64_secret

    assert base64_secret("SGVyb24jbG9jaDc3MTI=")


def test_split_formats_come_from_the_provider_rules() -> None:
    formats = split_formats()
    assert formats["whsec_"].low == 32 and formats["whsec_"].high == 64
    assert formats["key-"].alphabet.fullmatch("0a1b2c") and not formats["key-"].alphabet.fullmatch("XYZ")
    assert formats["key-"].low == formats["key-"].high == 32
    assert formats["glpat-"].low == 20 and formats["glpat-"].alphabet.fullmatch("Ab9_.-")
    assert formats["ghp_"].crc32 and formats["ghp_"].low == formats["ghp_"].high == 36
    # Refresh tokens come in the 36-character checksummed form and the long one.
    assert not formats["ghr_"].crc32 and (formats["ghr_"].low, formats["ghr_"].high) == (36, 76)


def test_every_split_prefix_in_the_rule_has_a_format() -> None:
    from pathlib import Path

    from monitor.safe_yaml import compose_and_load

    path = Path(__file__).resolve().parents[2] / "rules" / "credentials.yaml"
    _, data = compose_and_load(path.read_text(encoding="utf-8"))
    rule = next(r for r in data["rules"] if r["id"] == "cred.split-provider-token")
    listed = re.search(r"\(\?:([^)]*)\)", rule["match"]["regex"][0])
    assert listed is not None
    prefixes = [p.replace("gh[pousr]_", "") for p in listed.group(1).split("|")]
    formats = split_formats()
    for p in prefixes:
        if p:
            assert p in formats
    assert all(f"gh{c}_" in formats for c in "pousr")
