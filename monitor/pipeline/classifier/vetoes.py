"""Why one of the model's own findings stays in the shadow log although it scored high.

The model reads what a post is *about*; for credentials and personal data the policy asks what
it *holds*. A post can be all about passwords and hold none, or carry a long number that is an
order reference. These checks are the same for the pipeline and for the evaluation that chooses
the thresholds, so the figures in the model card are those of the decision that runs.
"""

from __future__ import annotations

from monitor.pipeline.classifier.placeholders import holds_secret_shape, only_placeholders
from monitor.pipeline.classifier.references import only_reference_numbers
from monitor.pipeline.rules.not_real import mentions_not_real


def model_veto(category: str, text: str, rule_found: bool) -> str | None:
    """The reason the model's own finding of ``category`` on the prepared ``text`` cannot be
    actionable, or ``None``; ``rule_found`` says whether a rule found that category in it."""
    if category == "credentials":
        if only_placeholders(text):
            return "only placeholder values, no secret material"
        if not holds_secret_shape(text):
            return "talk about credentials, no value that could be one"
    elif category == "pii" and not rule_found and only_reference_numbers(text):
        return "only reference numbers (order, ticket, tracking…), no personal data"
    if category in ("credentials", "pii") and not rule_found:
        word = mentions_not_real(category, text)
        if word is not None:
            return f"the post says its value is not real ('{word}') and no rule found one"
    return None
