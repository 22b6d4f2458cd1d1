"""The model's own credentials finding is vetoed where the post holds no live secret (POLICY.md:
test-mode keys, redacted and encrypted values, documented samples, fixtures (so called) failing
their checksum, public keys and ids, localhost samples), and never where it holds one."""

from __future__ import annotations

import pytest

from monitor.domain import Finding, Post
from monitor.pipeline.classifier.artifact import Thresholds, load_artifact
from monitor.pipeline.classifier.detector import PolicyModelDetector
from monitor.pipeline.classifier.placeholders import only_placeholders
from monitor.pipeline.classifier.prepare import Terms
from monitor.resources import models_dir

NO_LIVE_SECRET = [
    # test-mode, sandbox and publishable keys
    "our docs use sk_test_51Hx9QpL2mZ7vR4tN8wB3cY6dK1jS5aE0fGq2Lm7Xw4Rt8Pn3Vb6 for the checkout demo",
    "CHECKOUT_KEY=sk_sbox_q7w2m9z4x8c3v6b1n5k0j2h4g8 (sandbox only)",
    "braintree sandbox: access_token$sandbox$k2m9q7w4z8x3c6v1$5f1c9e3b7d2a4f6c8e0b1d3f5a7c9e1b",
    # redacted and masked
    "rotated the Slack key, the log shows xoxb-****************************Qz7K now",
    "the dashboard only shows SG.••••••••Lm2T for that key",
    "token was revoked (ghp_…Wq7Z), postmortem on Friday",
    # encrypted
    "db_password: ENC[AES256_GCM,data:q9ZkP2mLx7vR,iv:T4nW8bC3yH6dJ1sA5eF0gK2mQ9xL=,type:str]",
    "db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6231383934623065363539306438636234\n"
    "  3866303262373565663264663939653165",
    "encryptedData:\n  api_key: AgCq9ZkP2mLx7vRT4nW8bC3yH6dJ1sA5eF0gK2mQ9xLq7w2m9z4x8c3v6b1n5k0j",
    # a fixture whose checksum is wrong, a documented sample
    "# must not alert: the suffix is wrong\nFAKE = \"ghp_Zqumpm08hsE8JNpjJOQGa2rb19FlY01xVVzX\"",
    "the AWS docs pair AKIAIOSFODNN7EXAMPLE with wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "jwt.io starts you with the header eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9 and nothing else",
    # public keys, public ids, where a secret is kept
    "add my key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK9ZkP2mLx7vRT4nW8bC3yH6dJ1sA5eF0gK2mQ9xLq laptop",
    "recipient: age15feryxhrdz9m6y09mr8wrerwzgj6f8ntxvhxyrdlm5aahn0t09nl4ujy86",
    "the ETag is \"5f1c9e3b7d2a4f6c8e0b1d3f5a7c9e1b\", cache it",
    "Request-ID: 9b2e4c6a-1d3f-4e5a-8b7c-0d2e4f6a8b1c when it failed",
    "the role is arn:aws:iam::123456789012:role/deployer",
    "passwordFile: /run/secrets/app_db_password",
    "api_key_header: X-Api-Key",
    # security advice naming prefixes, published samples, public addresses and signatures
    "Slack bot tokens start with xoxb-, user tokens with xoxp-: treat both like passwords",
    "RFC 7617's example is Authorization: Basic dXNlcjpwYXNzd29yZA== (user:password)",
    "the grant went to address 0x3f5a7c9e1b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a",
    "sig: 0e9b1d3f5a7c9e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b (verify with our public key)",
    # localhost samples
    "local only: POSTGRES_PASSWORD=postgres on localhost:5432",
    "mysql -h 127.0.0.1 -u root -proot for the dev container",
]

LIVE_SECRET = [
    "GH_TOKEN=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",  # the checksum is right
    # the checksum fails, but nothing says it is a fixture: it is handed out as a token
    "@aurel use my token for the CI: ghp_RPs2ctlgov2cDBXAZ9kz3DrkJpaS5flZVRup",
    "prod key sk_live_51Hx9QpL2mZ7vR4tN8wB3cY6dK1jS5aE0f, the test one is sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "masked in the log as xoxb-****Qz7K, but here it is: xoxb-2389-1182-Tq8mZ2pLx7vR4tN9wB3c",
    "password: ENC[AES256_GCM,data:abc] and the old one was Kp7!mQ2zLx9w",
    "sandbox: sk_sbox_q7w2m9z4x8c3v6b1n5k0j2h4g8, prod: 5f1c9e3b7d2a4f6c8e0b1d3f5a7c9e1b",
    "DB_PASSWORD=Kp7mQ2zLx9wR4t on db.internal",
    "bot tokens start with xoxb-, mine is xoxb-2389-1182-Tq8mZ2pLx7vR4tN9wB3c",
    "wallet private key 0e9b1d3f5a7c9e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b",
    "the wifi password is sunshine42",  # prose, no benign marker: the model decides
    "token: [unused8]",  # the rules found a secret
]


@pytest.mark.parametrize("text", NO_LIVE_SECRET)
def test_no_live_secret_is_recognised(text: str) -> None:
    assert only_placeholders(text), text


@pytest.mark.parametrize("text", LIVE_SECRET)
def test_a_live_secret_is_never_vetoed(text: str) -> None:
    assert not only_placeholders(text), text


@pytest.fixture(scope="module")
def eager_model() -> PolicyModelDetector:
    """The shipped model with every post scored and every credentials score actionable, so
    that whether a finding nudges is the veto's decision alone."""
    art = load_artifact(models_dir())
    art.gate = None
    zero = {"credentials": 0.0}
    return PolicyModelDetector(art, Terms(), Thresholds(dict(zero), {}, dict(zero)))


def _model_credentials(det: PolicyModelDetector, text: str) -> list[Finding]:
    found = det.review([Post("p", text)], [[]])[0]
    return [f for f in found if f.category == "credentials" and f.source.startswith("model:")]


@pytest.mark.parametrize("text", [NO_LIVE_SECRET[0], NO_LIVE_SECRET[6], NO_LIVE_SECRET[9]])
def test_the_models_finding_on_a_benign_value_goes_to_the_shadow_log(eager_model, text) -> None:
    found = _model_credentials(eager_model, text)
    assert found, "the eager model always reports credentials"
    assert all(f.shadow for f in found)
    assert any("no secret material" in w for f in found for w in f.explanation)


@pytest.mark.parametrize("text", [LIVE_SECRET[2], LIVE_SECRET[5]])
def test_the_models_finding_on_a_live_value_stays_actionable(eager_model, text) -> None:
    found = _model_credentials(eager_model, text)
    assert found and not any(f.shadow for f in found)


@pytest.mark.parametrize("text", [
    "a" * 40_000,  # the model reads at most 40,000 characters of a post
    "Ab" * 20_000,
    "password: " + "xY" * 19_990,
    "ENC[" * 10_000,
    "key" * 13_000,
    " /a" * 13_000,
])
def test_the_veto_stays_fast_on_long_runs(text: str) -> None:
    import time

    start = time.perf_counter()
    only_placeholders(text)
    assert time.perf_counter() - start < 2.0


def test_the_models_finding_on_a_token_the_post_calls_unreal_goes_to_the_shadow_log(eager_model) -> None:
    text = "the scanner demo token ghp_Q2v9LmT4xR8kW1zN6bP3sY7dF0hJ5cA2eG9u, its checksum is deliberately wrong"
    found = _model_credentials(eager_model, text)
    assert found and all(f.shadow for f in found)
    assert any("not real ('deliberately wrong')" in w for f in found for w in f.explanation)
