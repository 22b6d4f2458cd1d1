"""Credentials in the shapes people post them: pairs, spelled-out and split values, made-up
tokens of a real format, named hex keys, JWTs with opaque claims."""

from __future__ import annotations

import pytest

from monitor.pipeline.rules.validators import (
    backup_codes,
    bitlocker_checksum,
    bitlocker_key,
    jwt_header,
    spelled_secret,
    split_checksum,
    split_format,
    strong_password,
    token_shape,
)


def _findings(engine, text: str) -> list[tuple[str, float]]:
    return [(f.source, f.score) for f in engine.analyse(text).findings
            if f.category == "credentials" and not f.shadow and f.score >= 0.5]


@pytest.mark.parametrize("text", [
    "crew portal admin is admin / Hq7%Lmz2PwKd till Monday",
    "`'lab_viewer' / 'wq9?ZrLm#k2B7'` for the spectrometer login",
    "the VPN account: svc_remote / p@9kLrTz2mWq. Works on any laptop",
    "guest wifi: Dockside-Guest / Rope!Tide2031",
    "staging admin is root:Zk4*PwL9qTr2 for now",
])
def test_user_password_pairs_are_found(engine, text: str) -> None:
    assert _findings(engine, text)


@pytest.mark.parametrize("text", [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBufElbYhYHCaq/Ab3SVk0gyM4Nx6l7Xm4+CzR16f9Ys me@laptop",
    "the login page says TCP/IP and/or DNS, ask the admin",
    "the cursor like 80v2u8Bxntr+eo0LhUGRae1I+yMnw/cjCg6l34hv, pass it to get the next page",
    "jdbc:h2:mem:testdb;USER=sa;PASSWORD= is the in-memory test database",
])
def test_slashes_in_keys_and_prose_are_not_pairs(engine, text: str) -> None:
    assert not _findings(engine, text)


@pytest.mark.parametrize("value", [
    "m a p l e w o o d 4 4 2 1",
    "q.R.7.w.&.k.z.&.2.m",
    "b-r-a-m-b-l-e-204-kx",
    "S G . h Q p w p 3 n 9 w Z l",
])
def test_spelled_values_join_into_passwords(value: str) -> None:
    assert spelled_secret(value)


@pytest.mark.parametrize("value", [
    "p a s s w o r d", "h.u.n.t.e.r", "00-1A-2B-3C-4D-5E", "1-2-3-4-5-6", "a b c d e f",
])
def test_spelled_words_and_ids_are_not_passwords(value: str) -> None:
    assert not spelled_secret(value)


def test_token_shape_wants_a_random_mixed_body() -> None:
    assert token_shape("ghp_Zqumpm08hsE8JNpjJOQGa2rb19FlY01xVVzX", 3.5)
    assert token_shape("ghp_ Zqum pm08 hsE8 JNpj JOQG a2rb 19Fl Y01x VVzX", 3.5)
    assert not token_shape("ghp_abcdefghijklmnopqrstuvwxyz1234567890", 3.5)
    assert not token_shape("ghp_" + "aB3" * 12, 3.5)


def test_failing_checksum_lowers_the_score_but_still_flags(engine) -> None:
    valid = dict(_findings(engine, "use 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 for CI"))
    wrong = dict(_findings(engine, "use ghp_Zqumpm08hsE8JNpjJOQGa2rb19FlY01xVVzX for CI"))
    assert valid["rule:cred.github-token"] > wrong["rule:cred.github-token"] >= 0.7


def test_scanner_fixtures_that_say_so_are_not_flagged(engine) -> None:
    text = ('# scanner test: the CRC32 suffix is deliberately wrong, must NOT alert\n'
            'FAKE = "ghp_Zqumpm08hsE8JNpjJOQGa2rb19FlY01xVVzX"')
    assert not _findings(engine, text)


@pytest.mark.parametrize("value", [
    "ghp_Kw8mRq2Lx7 | Tz4mKp8sNc3yB5 | vQ9hD2fJ6gWn",
    "AKIAQ7RZ2M\npart 2: XK4WPL9T2B\nsecret",
    "SG.Rt4mKq8ZpW2xLb7vNc3d\nHs.Qw8Lm2Zx7Kp4Vt9Bn3Cd\n6Hs1Jf5Ga0Ke8Ri2Tu5Yo9N",
])
def test_split_format_joins_pieces_to_the_exact_length(value: str) -> None:
    assert split_format(value, 3.3)


def test_split_format_refuses_words_and_wrong_lengths() -> None:
    assert not split_format("ghp_ tokens are 40 characters\nsplit them", 3.3)
    assert not split_format("AKIAQ7RZ2M\npart 2: XK4W", 3.3)
    assert not split_format("ghp_Kw8mRq2Lx7 | Tz4mKp8sNc3yB5 | vQ9hD2fJ6gWnEXTRA", 3.3)


def test_split_checksum_checks_github_pieces_only() -> None:
    assert split_checksum("ghp_Zqumpm08hsE8JNpj\nJOQGa2rb19FlY01xVVzU")
    assert not split_checksum("ghp_Zqumpm08hsE8JNpj\nJOQGa2rb19FlY01xVVzX")
    assert split_checksum("AKIAQ7RZ2M\npart 2: XK4WPL9T2B")


def test_jwt_header_accepts_opaque_claims_but_wants_an_algorithm() -> None:
    header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    assert jwt_header(header + ".qT7vW2kLx9Rm4Zp8Bn3Cd6Hs1Jf5Ga0Ke8Ri2.Tu5Yo9Nb8Vc7Xm4Lk2Jh")
    assert jwt_header(header + ".qT7vW2kLx9R\nm4Zp8Bn3Cd6Hs1Jf5Ga0Ke8Ri2.Tu5Yo9Nb8Vc7Xm4Lk2Jh")
    assert not jwt_header("eyJoZWxsbyB3b3JsZA.qT7vW2kLx9Rm4Zp8Bn3Cd6Hs1Jf5.Tu5Yo9Nb8Vc7Xm4Lk2Jh")
    assert not jwt_header("eyJhbGciOiJub25lIn0.qT7vW2kLx9Rm4Zp8Bn3Cd6Hs1Jf5.Tu5Yo9Nb8Vc7Xm4Lk2Jh")


@pytest.mark.parametrize("value,ok", [
    ("Otk%9uNfAKjY", True), ("z*El*S*d", True), ("Heron-Quay-2031", True),
    ("Office365", True), ("v2.14.1-beta", False), ("report.pdf", False),
    ("a.b@northwind.example", False), ("password", False), ("Northwind", False),
])
def test_strong_password(value: str, ok: bool) -> None:
    assert strong_password(value) is ok


@pytest.mark.parametrize("text", [
    "Office wifi password changed, the new one is Qr7%mTn2LxpZ. Posting because the email bounced",
    "WLAN im Lager: Lager-Nord, Passwort RUqbzmae7731* für die Nachtschicht",
    "La contraseña del wifi de la sala de juntas en Bilbao: tR94%kLmQz (cámbiala)",
    "a senha do wifi do escritório é J8Q*LmpwRt — aproveitem",
    "the VPN pre-shared key for the depot is 7Rw!kz2PmQ&HdS",
    "psk Nwq7Zr2x!Lp9, server vpn.northwind.example",
])
def test_passwords_in_prose_in_several_languages(engine, text: str) -> None:
    assert _findings(engine, text)


@pytest.mark.parametrize("text", [
    "never use a password like Summer2026! — it is the first thing attackers try",
    "reset my password for Office365 yesterday, all good now",
    "the password policy is: 12 characters, mixed case, one digit",
])
def test_password_advice_is_not_a_password(engine, text: str) -> None:
    assert not _findings(engine, text)


@pytest.mark.parametrize("text", [
    "Our metrics API key: 5e1c9a73b08d42f6e2a917c5d08b64fa. dashboards are public anyway",
    "the channel manager API key is 7A2C4E6B8D0F1A3C5E7B9D1F3A5C7E9B, use it in the loader",
])
def test_hex_keys_named_as_keys(engine, text: str) -> None:
    assert _findings(engine, text)


@pytest.mark.parametrize("text", [
    "token: 4a5f7139eb597bbfe43c1389ec46d7a3",
    "the GPG key fingerprint is 3AA5C34371567BD2C9F1E8A4B6D2F07C91E3A5B7",
    "csrf token rotated, old one 4809ce43ec61c71fbaf841567261e6e4 is invalid now",
])
def test_hex_ids_and_digests_are_not_keys(engine, text: str) -> None:
    assert not _findings(engine, text)


def test_bitlocker_key_and_its_checksum() -> None:
    made_up = "482391-226610-594813-710294-338520-091745-662310-457189"
    real_shape = "-".join(f"{11 * n:06d}" for n in (37901, 20301, 7062, 48365, 60706, 16554, 28280, 59549))
    assert bitlocker_key(made_up) and not bitlocker_checksum(made_up)
    assert bitlocker_key(real_shape) and bitlocker_checksum(real_shape)
    assert not bitlocker_key("111111-111111-111111-111111-111111-111111-111111-111111")


def test_backup_codes() -> None:
    assert backup_codes("52817394 06639127 91840265")
    assert backup_codes("a7c3-f912-e4d8-3b61-0c5e-d2f9-8a47-1e6b")
    assert not backup_codes("2024 2024 2024")
    assert not backup_codes("code review done")
