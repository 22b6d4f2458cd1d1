"""Rules as data: policy packs in ``rules/*.yaml`` compiled into one fast detector."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from monitor.config import ConfidentialTerms, DisparagementTerms, PolicySettings, Settings
from monitor.pipeline.rules.engine import Analysis, RuleEngine, RulesDetector
from monitor.pipeline.rules.loader import LoadedRule, load_rules, rule_files
from monitor.pipeline.rules.model import POLICY_TERMS, Rule

__all__ = [
    "EXAMPLE_POLICY",
    "Analysis",
    "LoadedRule",
    "Rule",
    "RuleEngine",
    "RulesDetector",
    "engine_for",
    "load_rules",
    "policy_terms",
    "rule_paths",
]

# The organisation that rule examples are written against (``rules test`` uses it, so examples
# behave the same whatever a deployment's config says). Documented in rules/README.md.
EXAMPLE_POLICY = PolicySettings(
    company_names=["Northwind Labs", "Northwind", "@northwindlabs"],
    disclaimers=["views are my own", "not speaking for my employer"],
    confidential=ConfidentialTerms(terms=["Project Falcon", "Bluebird"],
                                   customers_under_nda=["Contoso Bank"]),
    disparagement=DisparagementTerms(competitors=["Globex"], customers=["Contoso Bank"]),
    published_contacts=["press@northwind.example", "media.relations@northwind-labs.com",
                        "+1 415 555 0100", "1 Harbour Way, Springfield, IL 62701"],
)


def policy_terms(policy: PolicySettings) -> dict[str, list[str]]:
    """The organisation's term lists under the names rules use (``policy.confidential.terms``)."""
    out: dict[str, list[str]] = {}
    for name in POLICY_TERMS:
        node: object = policy
        for part in name.split(".")[1:]:
            node = getattr(node, part)
        out[name] = [str(t) for t in node]  # type: ignore[attr-defined]
    return out


def rule_paths(settings: Settings) -> list[Path]:
    """Bundled packs (unless replaced) followed by the folders and files the config adds."""
    from monitor.resources import rules_dir

    paths = [] if settings.rules.replace_bundled else [rules_dir()]
    paths.extend(Path(p).expanduser() for p in settings.rules.paths if p.strip())
    return paths


_CACHE: dict[str, RuleEngine] = {}


def _key(paths: Sequence[Path], settings: Settings) -> str:
    stamps = []
    for f in rule_files(paths):
        st = f.stat()
        stamps.append((str(f), st.st_mtime_ns, st.st_size))
    from monitor.masking import SecretKeeping

    key = hashlib.sha256(SecretKeeping.from_settings(settings).fingerprint_key).hexdigest()
    return json.dumps(
        [stamps, settings.policy.model_dump(mode="json"), settings.rules.model_dump(mode="json"),
         key],
        sort_keys=True,
    )


def engine_for(settings: Settings) -> RuleEngine:
    """The compiled engine for these settings, built once per distinct rules and policy."""
    paths = rule_paths(settings)
    key = _key(paths, settings)
    engine = _CACHE.get(key)
    if engine is None:
        from monitor.masking import SecretKeeping

        engine = RuleEngine(
            load_rules(paths), policy_terms(settings.policy), settings.rules.disabled,
            fingerprint_key=SecretKeeping.from_settings(settings).fingerprint_key,
        )
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = engine
    return engine
