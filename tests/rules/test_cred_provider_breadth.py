"""Provider formats added for breadth, and random keys in one case under a secret's name."""

from __future__ import annotations

import pytest

from monitor.pipeline.rules.validators import generic_secret
from tests.rules.findings import actionable


@pytest.mark.parametrize("text", [
    'CODECOV_TOKEN = "k3v9qz1mw7xp2lr8ty4nb6hs0dcf5gaj"',
    "mattermost_token: q7k2m9x4v8p1w6z3n5b0r2t7yj",
    "gitlab-runner register --registration-token GR1348941Qm7rXw2LpZ9vKt4NcB8s",
    "Cookie: _gitlab_session=k3v9qz1mw7xp2lr8ty4nb6hs0dcf5gaj",
    "new key 4b1dQm7rXw2LpZ9vKt4NcB8sHd3JfG6yRaTq5Wz8Lm",
    'GITHUB_TOKEN="9c4e1a7b3f8d2e6c0a5b9f1d7e3c8a2b6f0d4e9a"',
    "telegram bot 5512098734:AHq3Lm9xZ2pR7vK4nW8tB1cY6dJ0sF5gQeU",
    "HUBSPOT_API_KEY=3f9c2a7e-51b4-4d2e-8a6f-3c1d0e7b9a24",
    "token: pat.Hq8zL2mW7xRv4Tp9Kc3NbY.Qm7rXw2LpZ9vKt4NcB8sHd3J.Fg6yRaTq5Wz8Lm2Xk9Vp",
])
def test_provider_formats_are_credentials(engine, text: str) -> None:
    assert actionable(engine, text, "credentials")


@pytest.mark.parametrize("text", [
    "api_key = my_weather_api_key",
    "token = user2profile3settings",
    "GITHUB_SHA=9c4e1a7b3f8d2e6c0a5b9f1d7e3c8a2b6f0d4e9a",
    "HUBSPOT_PORTAL_ID=3f9c2a7e-51b4-4d2e-8a6f-3c1d0e7b9a24",
    "the Bot API docs show 123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11 as the token",
])
def test_lookalikes_stay_benign(engine, text: str) -> None:
    assert not actionable(engine, text, "credentials")


def test_a_random_key_in_one_case_is_a_secret_but_an_identifier_is_not() -> None:
    assert generic_secret("k3v9qz1mw7xp2lr8ty4nb6hs0dcf5gaj", 3.5)
    assert not generic_secret("mysecretvalue2024", 3.5)
    assert not generic_secret("abcd1234efgh5678ijkl", 3.5)
    assert not generic_secret("settings_api_key_v2", 3.5)


@pytest.mark.parametrize("text", [
    'password = "w{{q}e)r${t]yui(op[asd>-_$#fghjk}"',
    "api_key: 'w{{q}e)r${t]yui(op[asd>-_$#fghjk}'",
    "private_key = 'w{{q}e)r${t]yui(op[asd>-_$#fghjk}'",
    'access_key: "%Kq8!Lm2#Zp9$Wx4"',
])
def test_made_up_secrets_full_of_punctuation_are_credentials(engine, text: str) -> None:
    assert actionable(engine, text, "credentials")


@pytest.mark.parametrize("text", [
    "password: ${DB_PASSWORD}",
    'password: "{{ .Values.db.password }}"',
    "api_key: '{{api_key}}'",
    "secret_key: %SECRET_KEY%",
    '<add key="ApiSecret" value="#{ApiSecret}#" />',
    "db_password: ${env:DB_PASSWORD:-fallback}",
])
def test_template_references_stay_benign(engine, text: str) -> None:
    assert not actionable(engine, text, "credentials")
