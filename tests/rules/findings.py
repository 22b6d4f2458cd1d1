"""What the rules tests ask of a post: whether the engine makes an actionable finding of one
category (at the score the pipeline nudges on, not in the shadow log)."""

from __future__ import annotations

from monitor.pipeline.rules import RuleEngine
from monitor.pipeline.rules.checks import FIRE_SCORE


def actionable(engine: RuleEngine, text: str, category: str) -> bool:
    return any(f.category == category and f.score >= FIRE_SCORE and not f.shadow
               for f in engine.analyse(text).findings)
