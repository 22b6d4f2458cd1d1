"""Shared fixtures for the rules tests: the bundled corpus compiled once per session."""

from __future__ import annotations

import pytest

from monitor.pipeline.rules import EXAMPLE_POLICY, RuleEngine, load_rules, policy_terms
from monitor.resources import rules_dir


@pytest.fixture(scope="session")
def bundled():
    return load_rules([rules_dir()])


@pytest.fixture(scope="session")
def engine(bundled) -> RuleEngine:
    """The bundled packs with the example organisation's terms."""
    return RuleEngine(bundled, policy_terms(EXAMPLE_POLICY))
