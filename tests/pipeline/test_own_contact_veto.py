"""The policy model's pii guess is vetoed when the post's only contact details are its own."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.config import settings_from_dict
from monitor.domain import Finding, Post
from monitor.pipeline.core import Pipeline
from monitor.pipeline.factory import build_pipeline


class ModelSaysPii:
    """Stands in for the policy model: a pii finding on every post, as the model gives one."""

    name = "model-stand-in"

    def detect(self, posts: Sequence[Post]) -> list[list[Finding]]:
        return [[Finding(category="pii", source="model:policy", severity="medium", score=0.93,
                         spans=[(0, len(p.text or ""))])] for p in posts]


def _pipeline() -> Pipeline:
    real = build_pipeline(settings_from_dict({"model": {"enabled": False}}))
    return Pipeline(detectors=[*real.detectors, ModelSaysPii()], decider=real.decider)


def _model_pii(flag) -> list[Finding]:
    return [f for f in flag.findings if f.category == "pii" and f.source.startswith("model:")]


def test_the_models_pii_guess_on_the_posters_own_number_goes_to_the_shadow_log() -> None:
    [flag] = _pipeline().analyse([Post(id="1", text="lost my phone, text me on +44 7700 900431")])
    assert not flag.flagged and not _model_pii(flag)
    vetoed = [f for f in flag.shadow_findings if f.source == "model:policy"]
    assert vetoed and "poster's own" in vetoed[0].explanation[-1]


def test_the_models_pii_guess_stands_when_the_contact_is_someone_elses() -> None:
    [flag] = _pipeline().analyse([Post(id="1", text="her new number is +44 7700 900431")])
    assert flag.flagged and _model_pii(flag)


def test_the_models_pii_guess_stands_beside_other_personal_data() -> None:
    text = "text me on +44 7700 900431; the tenant's SSN is 308-63-0237"
    [flag] = _pipeline().analyse([Post(id="1", text=text)])
    assert _model_pii(flag)


def test_the_models_pii_guess_stands_when_the_post_has_no_contact_detail() -> None:
    [flag] = _pipeline().analyse([Post(id="1", text="Ana lives two doors down from me")])
    assert _model_pii(flag)
