"""Addresses, spelled-out e-mails and dates of birth in more countries' formats: found when
they are someone else's, not when they are the poster's own, a public place or a test vector.

The phrasings are written for these tests; none is a rule example."""

from __future__ import annotations

import pytest

from monitor.pipeline.rules import RuleEngine
from tests.rules.findings import actionable


@pytest.mark.parametrize("text", [
    "Zosia's flat is ul. Szeroka 8/2, 61-001 Poznań",
    "Nils bor numera på Kungsgatan 33, 411 19 Göteborg",
    "Aoife's house: 9 Clonskeagh Road, Dublin 14, D14 K2T8",
    "Mr Sato lives at 〒530-0001 大阪府大阪市北区梅田3-1-1",
    "Deepa's home: Flat 22, Palm Court, 2nd Main Road, Koramangala, Bengaluru 560034",
    "Paula vive en Calle Luna 7, 3º dcha., 28004 Madrid",
    "his address is tomek dot nowak at onet dot pl",
    "her mail: j.silva [at] uol [dot] com [dot] br",
    "Irene Vidal, nacida el 9 del 3 de 1992, es la nueva inquilina",
    "that driver texted me from +31 6 1234 5678, his name is Daan",
])
def test_someone_elses_details_are_found(engine: RuleEngine, text: str) -> None:
    assert actionable(engine, text, "pii"), text


@pytest.mark.parametrize("text", [
    "nowy adres, zapiszcie sobie: ul. Szeroka 8/2, 61-001 Poznań",
    "dinner at our new flat friday! Kungsgatan 33, 411 19 Göteborg",
    "new private mail, update your contacts: tomek dot nowak at onet dot pl",
    "piszcie na j.silva [at] uol [dot] com [dot] br",
    "Treffpunkt: the Louvre, Rue de Rivoli, 75001 Paris",
    "unit test for the NIE validator, should fail: X1234567L",
    "Frida Kahlo (born 6 July 1907) quote thread",
    "have a look at example.com, it explains the format",
])
def test_own_public_and_test_values_are_not(engine: RuleEngine, text: str) -> None:
    assert not actionable(engine, text, "pii"), text
