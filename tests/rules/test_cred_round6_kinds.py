"""Credentials in the shapes of the sixth held-back round: tokens joined from pieces, hex keys
behind a letter prefix, door and alarm codes in more phrasings, passwords named by what they
open; and public-by-design values that stay benign."""

from __future__ import annotations

import pytest

from monitor.pipeline.rules.validators import (
    joined_token,
    prose_password,
    random_token,
    user_password_pair,
)
from tests.rules.findings import actionable


def test_a_hex_body_is_judged_by_its_own_alphabet() -> None:
    assert random_token("EZAK" + "9c41e07b5d2f83a6" * 3 + "7e4d1a", 4.0)
    assert random_token("rdme_" + "3f9a1c7e5b2d8064" * 4 + "a1b2c3", 4.0)
    assert not random_token("EZAK" + "0" * 54, 4.0)


def test_joined_token_wants_a_whole_provider_format() -> None:
    assert joined_token("ASIAQ7RZ2MXK + 4WPL9T2B", 3.3)
    assert joined_token("ghp_-Kq8m-Rw2L-x7Tz-4mKp-8sNc-3yB5-vQ9h-D2fJ-6gWn", 3.3)
    assert not joined_token("sales + marketing", 3.3)
    assert not joined_token("xoxb-not-a-real-token-this-will-not-work", 3.3)
    # Too short to be the whole AWS key id once joined.
    assert not joined_token("ASIAQ7RZ + 2MXK", 3.3)


@pytest.mark.parametrize("text", [
    "so the filter misses it: ghp_Rt8mQw2Lx7Zp4Kv9Nc3B + yH6sDf1Jg5Wq0Ea8",
    "over the phone, in fours: npm_-Zq8m-Rw2L-x7Tz-4mKp-8sNc-3yB5-vQ9h-D2fJ-6gWn",
    'GH_TOKEN="ghp_Rt8mQw2Lx7Zp4Kv9"\\\n"Nc3ByH6sDf1Jg5Wq0Ea8"',
    "Postman key part 1/2: PMAK-0a1b2c3d4e5f60718293a4b5-\npart 2/2: c6d7e8f90a1b2c3d4e5f60718293a4b5c6",
])
def test_tokens_in_pieces_are_credentials(engine, text: str) -> None:
    assert actionable(engine, text, "credentials")


@pytest.mark.parametrize("text", [
    "the combination on the storage cage padlock is 2715",
    "the key safe at the cottage opens with 48*16",
    "please use code 77031 at the rear gate after six",
    "Der Code für die Wohnungstür ist 55182",
    "De code van de kluis is 3391",
    "arm the alarm with 461902 on your way out",
    "El PIN de la tarjeta de la tienda es 90417",
])
def test_access_codes_in_more_phrasings_are_credentials(engine, text: str) -> None:
    assert actionable(engine, text, "credentials")


@pytest.mark.parametrize("text", [
    "use code SPRING24 at checkout for the garden gate planters",
    "the padlock is on the shelf, the code is on the fridge",
])
def test_code_talk_without_a_code_is_not(engine, text: str) -> None:
    assert not actionable(engine, text, "credentials")


def test_prose_password_skips_versions_and_word_numbers() -> None:
    assert prose_password("Heron!Slate73")
    assert not prose_password("Python3.12")
    assert not prose_password("version-2")


@pytest.mark.parametrize("text", [
    "logging in as ops with Fjord#Pebble19 just loops back to the login page",
    "use Ember%Quarry58 to open the encrypted zip I sent",
    "if Tundra&Mole44 stops working for the VPN, tell me",
    "the password? it's walnut-harbor-kite-33",
    "mysql -u report -p'Wren$Cliff2040' -h db-3 sales",
    "redis://:Fl@sk!9921@cache.corp.lan:6379/0",
    "Réseau Bureau Est, clé WPA Tq8!mRiver42",
])
def test_passwords_in_prose_and_urls_are_credentials(engine, text: str) -> None:
    assert actionable(engine, text, "credentials")


def test_user_password_pair_skips_links_and_key_types() -> None:
    assert not user_password_pair("discord.gg/Hq7xP2mK")
    assert not user_password_pair("host: ssh-ed25519")
    assert user_password_pair("ops@corp.lan / Vq7!rTz2Lm")


@pytest.mark.parametrize("text", [
    "map.accessToken = 'pk.eyJ1IjoibWFwcGVyIiwiYSI6ImNrcXl6eHl6MDAwMDAifQ.Wk4mPz8Rt2QvLx9Nb3Hc7d';",
    "SUPABASE_ANON=sb_publishable_Qw8mZr2Lx7Tz4mKp8sNc3yB5vQ9hD2fJ",
    "init the browser SDK with https://9d2e4c1a7b3f5e8d0c6a2b4f1e7d3c95@o55123.ingest.sentry.io/778812",
    "Algolia search-only key for the help centre: 3b9e1f7c2a5d8e4b6c0f9a1d3e7b5c28",
    "Algolia Search API key for the storefront widget: 7c2a5d8e4b6c0f9a1d3e7b5c283b9e1f",
    "our public key for the jump box : ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0m3wXb7 ops@jump",
    "come hang out, the invite is discord.gg/Rt7qP2xM",
    "from the Kubernetes docs: password: MWYyZDFlMmU2N2Rm",
])
def test_public_and_documented_values_are_not(engine, text: str) -> None:
    assert not actionable(engine, text, "credentials")
