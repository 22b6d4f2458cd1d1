"""Credentials as staff post them in chat: wallet seed phrases checked against the BIP-39
list, token formats whose payload is base64 JSON, weak formats at the end of a sentence."""

from __future__ import annotations

import pytest

from monitor.pipeline.rules.validators import base64_json, bip39_words, mapbox_token, mnemonic
from tests.rules.findings import actionable

SEED = "pledge rookie hazard canvas mirror velvet tunnel orbit salad timber wisdom clay"


def test_bip39_list_has_its_2048_words() -> None:
    words = bip39_words()
    assert len(words) == 2048 and "abandon" in words and "zoo" in words


def test_mnemonic_wants_a_run_of_list_words() -> None:
    assert mnemonic(SEED)
    assert mnemonic(f"you asked for, {SEED} - keep it safe")
    assert not mnemonic(" ".join(SEED.split()[:11]))
    # Twelve short words of prose: "the", "is" and "of" are not BIP-39 words.
    assert not mnemonic("the plan is to meet at the end of the week near the old park gate")


@pytest.mark.parametrize("text", [
    f"SEED_PHRASE={SEED}",
    f"here's the recovery phrase you wanted, {SEED}, don't lose it",
    f"my notes: eggs, wallet backup words {SEED}, dentist at 3",
])
def test_seed_phrases_are_credentials(engine, text: str) -> None:
    assert actionable(engine, text, "credentials")


@pytest.mark.parametrize("text", [
    "never type your seed phrase into a website, a real wallet will never ask for it",
    "MNEMONIC=<twelve words from your wallet>",
])
def test_seed_phrase_advice_is_not(engine, text: str) -> None:
    assert not actionable(engine, text, "credentials")


def test_base64_json_allows_a_random_tail() -> None:
    # {"email": "ops@corp.example", "kid": "A3-KD82L"} then more random characters
    token = "ops_eyJlbWFpbCI6ICJvcHNAY29ycC5leGFtcGxlIiwgImtpZCI6ICJBMy1LRDgyTCJ9Qm4Xz81PqRt"
    assert base64_json(token)
    assert not base64_json("ops_eyJxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")


def test_mapbox_secret_token_payload() -> None:
    good = "sk.eyJ1IjogImZpZWxkLXRlYW0iLCAiYSI6ICJxN2Jtd3o0bnB0a2Y4cnZ5In0.Hx2LrQ9vTz7KpWm3NcYd8a"
    assert mapbox_token(good, 4.0)
    assert not mapbox_token("sk.eyJhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5.aaaaaaaaaaaaaaaaaaaaaa", 4.0)


@pytest.mark.parametrize("text", [
    "that's our Okta token: 00Rk2vX9-pLq7TnWm4Zc8bYd3Hs6Jf1Ga5Ue0KoNi_. please rotate",
    "the deployer wallet private key is 0x4f9a1c7e2b8d3f60a5c9e1b7d2f48a3c6e0b9d1f7a2c5e8b4d6f0a3c9e1b7d25.",
])
def test_weak_formats_at_the_end_of_a_sentence(engine, text: str) -> None:
    assert actionable(engine, text, "credentials")


@pytest.mark.parametrize("text", [
    "integrations:\n  user: sam\n  client_secret: pQrWkZtLmBvX$nHsYdFcJ\n",
    "isql -S syb-prod -U sa -P 'Quay7!marsh20' < fix.sql",
    "Fwd: Welcome aboard\nYour secret API key is: Hq4rTz8LmW2xKp9vNc3bYd6s",
    "supervisor override code is 730194 if the till locks",
    "el código de la puerta del sótano es 5820, no lo compartan",
    "(1/2) the kiosk password starts with Fern-73\n(2/2) …and ends with Quay!lark",
    "first half ghp_Q2wErTy7UiOp3AsD — other half in my next reply\n↳ JkLzXcVbNm4Qw8ErTyUi",
])
def test_round8_shapes_are_credentials(engine, text: str) -> None:
    assert actionable(engine, text, "credentials")


@pytest.mark.parametrize("text", [
    "the setup guide says password: CHANGE_ME until you log in the first time",
    "config:\n  class_name: PaymentGatewaySecretResolver\n",
    "a good password starts with a phrase and ends with a number",
])
def test_round8_look_alikes_are_not(engine, text: str) -> None:
    assert not actionable(engine, text, "credentials")
