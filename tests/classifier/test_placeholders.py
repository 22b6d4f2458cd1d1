"""A config line that names a secret but holds a placeholder is not a leak (POLICY.md)."""

from __future__ import annotations

import pytest

from monitor.pipeline.classifier.placeholders import only_placeholders


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
