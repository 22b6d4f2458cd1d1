"""Shared pieces for the property-based tests: the bundled rules compiled once."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from monitor.pipeline.rules import EXAMPLE_POLICY, RuleEngine, load_rules, policy_terms
from monitor.resources import rules_dir

# Modest example counts keep the suite fast; ``make fuzz`` runs for as long as it is told.
settings.register_profile(
    "suite", max_examples=60, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile("suite")


@pytest.fixture(scope="session")
def engine() -> RuleEngine:
    """The bundled packs with the example organisation's terms."""
    return RuleEngine(load_rules([rules_dir()]), policy_terms(EXAMPLE_POLICY))
