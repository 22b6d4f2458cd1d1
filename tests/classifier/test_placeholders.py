"""A config line that names a secret but holds a placeholder is not a leak (POLICY.md)."""

from __future__ import annotations

import pytest

from monitor.pipeline.classifier.placeholders import holds_secret_shape, only_placeholders
from monitor.pipeline.classifier.vetoes import model_veto


@pytest.mark.parametrize("text", [
    "services:\n  api:\n    environment:\n      - GH_OAUTH_TOKEN=TODO\n      - PORT=8080",
    "TWINE_PASSWORD={{ secrets.TWINE_PASSWORD }}",
    "rob: TWINE_PASSWORD=$(TWINE_PASSWORD)",
    "SLACK_APP_TOKEN=REPLACE_ME",
    'api_key: "<your key here>"',
    "DB_PASSWORD=${DB_PASSWORD} and API_KEY=********",
    "export STRIPE_SECRET=your_secret_here",
])
def test_placeholder_assignments_hold_no_material(text: str) -> None:
    assert only_placeholders(text)


@pytest.mark.parametrize("text", [
    "GH_TOKEN=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",
    "the wifi password is sunshine42",  # prose: no assignment to judge, the model decides
    "DB_PASSWORD=hunter2-Kq9 in the staging env",
    "API_KEY=TODO but the old one was sk_live_51HqLyjWDarjtT1zdp7dcXy2",
    "token: [unused8]",  # the rules already found a secret here
    "nothing to see: just a post about the weather",
])
def test_real_values_or_no_assignment_are_left_to_the_model(text: str) -> None:
    assert not only_placeholders(text)


@pytest.mark.parametrize("text", [
    "the password is in the team vault under 'Staging DB', ask Ines for access",
    "I'll DM you the password, not posting it in a channel with 400 people",
    "rotate the service account password quarterly, per the runbook",
    "the new policy wants 14 characters and no reuse of the last 10 passwords",
    "changed all my passwords after the breach notice in 2026, password manager FTW",
    "my [unused1] laptop password expired again",  # an organisation stand-in is no value
])
def test_talk_about_credentials_holds_no_value(text: str) -> None:
    assert not holds_secret_shape(text)
    assert model_veto("credentials", text, rule_found=False) is not None


@pytest.mark.parametrize("text", [
    "wifi pw is r e d c e d a r 1 6 5 8 (no spaces)",  # spaced out
    "key with dots so it's safe: s.k._.l.i.v.e._.w.R.P.6",
    "door 4471#, alarm 245550, delete after reading",  # codes
    "the shared login is 'spectro' / 'oxx?msLmY#d0A3'",
    "mot de passe Oa@?q34QpnO pour le wifi",
    "BitLocker recovery key 822107-183975-072927-459178",
    "token: [unused8]",  # the rules found a secret
])
def test_a_value_that_could_be_the_secret(text: str) -> None:
    assert holds_secret_shape(text)
    assert model_veto("credentials", text, rule_found=False) is None
