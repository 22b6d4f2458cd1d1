"""The model's pii guess on a post whose only long numbers are references (order, ticket,
tracking) goes to the shadow log; a person's details, or a rule's pii finding, keep it."""

from __future__ import annotations

import json

import pytest

from monitor import resources
from monitor.config import settings_from_dict
from monitor.domain import Finding, Post
from monitor.pipeline.classifier.references import only_reference_numbers
from monitor.pipeline.classifier.vetoes import model_veto
from monitor.pipeline.factory import build_pipeline


@pytest.mark.parametrize("text", [
    "e-ticket 125-4877360721 for the train, in case mine dies",
    "DHL Sendungsnummer 3147787858, kommt angeblich morgen",
    "invoice INV-2027-05652 is paid, finance can close it",
    "USPS 9400 12988 1309 0608 1973 32 delivered to a mailbox I don't have",
    "ISBN 978-1-868-36098-7 is the book everyone recommends",
    "mi pedido nº 40817723 sigue sin llegar",
    "Booking ref: 88231907, flight LH 1234 at 7",
])
def test_references_only(text: str) -> None:
    assert only_reference_numbers(text)


@pytest.mark.parametrize("text", [
    "his number is 0612345678",  # a phone, said to be one
    "ticket 12345 and her mobile 0612345678",  # a reference beside a person's detail
    "order 55512345, ship to j.doe@example.com",  # an e-mail address
    "Anna Berg, born 12.03.1988, order 99812345",  # a birth date beside a name
    "the patient in bed 4 is 943 476 5919",  # an unexplained long number
    "no numbers at all here",
])
def test_not_references_only(text: str) -> None:
    assert not only_reference_numbers(text)


def _model_pii() -> Finding:
    return Finding(category="pii", source="model:policy", severity="medium", score=0.9, spans=[(0, 5)])


def test_a_rule_finding_of_personal_data_keeps_the_models_guess() -> None:
    assert model_veto("pii", "order 99812345 arrived", rule_found=True) is None
    why = model_veto("pii", "order 99812345 arrived", rule_found=False)
    assert why is not None and "reference numbers" in why


def test_the_shipped_model_does_not_nudge_on_a_train_ticket_number() -> None:
    pipe = build_pipeline(settings_from_dict({}))
    [flag] = pipe.analyse([Post(id="1", text="e-ticket 125-4877360721 for the train, in case mine dies")])
    assert not any(f.category == "pii" for f in flag.findings if not f.shadow)
    # The model's guess stays in the shadow log: below its nudge threshold, or vetoed by name.
    nudge = json.loads((resources.models_dir() / "manifest.json").read_text("utf-8"))
    at = nudge["thresholds"]["nudge"]["pii"]
    [shadow] = [f for f in flag.shadow_findings if f.category == "pii" and f.source.startswith("model:")]
    assert shadow.score < at or "reference numbers" in shadow.explanation[-1]
    [other] = pipe.analyse([Post(id="2", text="her new mobile is 0612 345 678, call her")])
    assert any(f.category == "pii" and not f.shadow for f in other.findings)
