"""Credentials under a credential's name in config and code, passwords in prose without the
word "password" next to them, and the provider formats added with them."""

from __future__ import annotations

import pytest

from monitor.pipeline.rules.validators import config_secret, split_password, typed_password
from tests.rules.findings import actionable


@pytest.mark.parametrize("text", [
    # docker-compose, Kubernetes, CI, INI, properties, JSON, Terraform, Python, PHP, XML, ENV
    'services:\n  db:\n    environment:\n      ADMIN_PASSWORD: "Falcon-ridge-4417?"',
    'apiVersion: v1\nkind: Secret\nstringData:\n  session_secret: "Moss-41kq-8890&"',
    "steps:\n  - run: make deploy\n    env:\n      SMTP_PASSWORD: 9b41e07cd25f38a6e1c0d7f4a92b3e58",
    "[mail]\nhost = smtp.corp\nsmtp_password = Quartz7719LUX!",
    "app.security.master_key=Ember2264ASH#",
    '{"name": "etl", "access_token": "Garnet.willow.fern38"}',
    'provider "acme" {\n  api_key = "Lark3308FEN$"\n}',
    "CONFIG = {'jwt_secret': 'c7d1f0a9e2b84c3d5a6f7e8091b2c3d4e5f6a7b8'}",
    "define('LOGGED_IN_SECRET', 'Tarn-5511-pike!');",
    "<settings>\n  <encryption_key>slate.harbor.wren62</encryption_key>\n</settings>",
    'os.environ.setdefault("STRIPE_WEBHOOK_SECRET", "Vole8812MIR?")',
    "ENV APP_SECRET Hollow-3320-gate",
])
def test_a_typed_password_or_hex_key_under_a_credential_name_is_found(engine, text) -> None:
    assert actionable(engine, text, "credentials")


@pytest.mark.parametrize("text", [
    'password: "{{ .Values.db.password }}"',
    "api_key: ${{ secrets.API_KEY }}",
    "client_secret: REPLACE_ME",
    "secret_key: TODO-fill-in-2026",
    "DB_PASSWORD=  # left empty on purpose",
    "access_token: %ACCESS_TOKEN%",
    "password = var.db_password",
    "secret: op://Vault/Item/password",
    "app_secret: 3f2c9a1e-8b7d-4c6e-9f0a-1b2c3d4e5f60",
    "integrity:\n  - path: app.tar.gz\n    sha256_secret: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "checksum:\n  download_secret: 7c437cc29a5772cafd2718d90db80f9a  # md5 of the tarball",
    "secretName: db-creds-v2",
    "secret: db-creds-v2",
    "image_secret: ghcr.io/acme/api:1.14.2",
    "KEYCLOAK_ADMIN_PASSWORD=admin",
    "password: ENC[AES256_GCM,data:T/7etXcu,iv:L4Aw,tag:yYzi,type:str]",
    "api_secret: v1.2.3",
    "encryptedData:\n  password: AgB+YNC+CeECTAsvq7Jfb0e4OGF06RMpwpcjAOuUGEGRPQle+hL1QuaIWYRwSQKQF",
])
def test_references_placeholders_names_and_digests_stay_benign(engine, text) -> None:
    assert not actionable(engine, text, "credentials")


@pytest.mark.parametrize("text", [
    "just enter Lumen2231ORE! when it asks for the passphrase",
    "printer web UI: login admin and copper.meadow.lynx58",
    "WLAN für Gäste: birch.amber.stone73",
    "the db password is Fern3\n…and the rest: 392ASH!",
])
def test_passwords_in_prose_without_the_word_next_to_them(engine, text) -> None:
    assert actionable(engine, text, "credentials")


@pytest.mark.parametrize("text", [
    "use SSO when you log in, the old login page is gone",
    "login admin and then reset it from the console",
    "wifi: HarbourGuest, ask reception for the code",
    "type make test when the prompt appears",
])
def test_password_talk_without_a_password_stays_benign(engine, text) -> None:
    assert not actionable(engine, text, "credentials")


@pytest.mark.parametrize("text", [
    "my relay key nsec1gztn3n9hg9mufmnt3ugezeazuqu2njs34s6y8mt8n952jjazypl60z0mdp, don't judge",
    "webhook: https://hooks.slack.com/triggers/T04ABCD1234/5123456789012/8f3c2a9d1e7b4c6f0a5e9d2b7c1f3a8e",
    "scenario hook https://hook.us1.make.com/k3j9x2m7q4w8e1r5t6y0u2i9o3p7a4s1",
    "deploy bot: https://api.telegram.org/bot6037607450:AAYIiL5bvz6OCxD_bwfwJ7ShCe7bapDizmo/sendMessage",
    "posting to https://eo8k2j4h6g9f1d3s5a7q0w2e4r6t8y1u.m.pipedream.net",
    "oc login --token=sha256~Xk2mP9qLw4RzT7vN1bC8yH3dF6jS0aEuGiOo5lKe2Wp",
    "Kann jemand helfen? New Relic lehnt NRII-Ab3_Xy9-Qw2Er5Ty8Ui1Op4As7Df0Gh4 ab",
    "j'ai collé la clé Cerebras csk-9x2k4m6p8q1w3e5r7t9y0u2i4o6p8a1s3d5f7g9h2j4k6lz7 dans le ticket",
    "Update: the AWS credential in my last post (Qm8x/Vb2LpZ7rNc4TyW9kHs3J+fA1dE6gR0uP5oI) is revoked",
])
def test_provider_formats_added(engine, text) -> None:
    assert actionable(engine, text, "credentials")


@pytest.mark.parametrize("text", [
    "Nostr public keys look like npub1gztn3n9hg9mufmnt3ugezeazuqu2njs34s6y8mt8n952jjazypl6qqqqqq",
    "STYTCH_SECRET=secret-test-XDCqaTADi7MoFmt85P6-AnWIL6PD3V0Aossv for the test project",
    "the file's digest is sha256:9f2c0a1b3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",
    "AWS docs commit 3f2a9c1e8b7d4c6e9f0a1b2c3d4e5f60a7b8c9d0 fixed the typo",
])
def test_lookalikes_of_the_added_formats_stay_benign(engine, text) -> None:
    assert not actionable(engine, text, "credentials")


def test_the_validators_directly() -> None:
    assert config_secret("QYPY-z0c9-3990!")
    assert config_secret("kestrel.obsidian.marlin26")
    assert not config_secret("d41d8cd98f00b204e9800998ecf8427e")
    assert not config_secret("MY_APP_SECRET")
    assert not config_secret("settings.api_key")
    assert typed_password("glacier.saffron.marlin99")
    assert not typed_password("v2.14.1")
    assert split_password("Mead1\n...and the rest: 492DOW$")
    assert not split_password("long and the rest: ask")
