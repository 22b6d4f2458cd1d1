"""Passports, driver's licences, health insurance and bank numbers, Nordic personal numbers and
addresses without a street word: found when a post gives someone else's, not when it names the
format, a public place or the poster's own.

The phrasings are written for these tests; none is a rule example."""

from __future__ import annotations

import pytest

from monitor.pipeline.rules import RuleEngine
from monitor.pipeline.rules.id_checks import (
    de_kvnr_shape,
    driving_licence,
    is_kennitala,
    passport_number,
    us_mbi,
    us_mbi_shape,
)
from tests.rules.findings import actionable


def test_passport_numbers_need_a_digit_and_germans_check_digit_at_ten() -> None:
    assert passport_number("A04382915") and passport_number("C4K7LTR2M")
    assert passport_number("15CV40213") and not passport_number("EXPIRED")
    # The German book number with its check digit (MRZ form): 10 characters, the 10th checked.
    assert passport_number("C7T2F9KLM7") and not passport_number("C7T2F9KLM5")
    assert not passport_number("20240115")  # a date, not a number


def test_licence_numbers_by_state_shape() -> None:
    for number in ("B6620418", "031 784 225", "W425-117-62-830-2", "40318827",
                   "Q898-4942-7840", "K4415 88201 39920", "WDLQ2RT7UV9K"):
        assert driving_licence(number), number
    assert not driving_licence("2024") and not driving_licence("WDLQQRRTTUUV")


def test_mbi_and_kvnr_shapes_allow_a_slip_the_strict_checks_do_not() -> None:
    assert us_mbi_shape("0KQ5-XW8-TP22") and not us_mbi("0KQ5-XW8-TP22")
    assert not us_mbi_shape("1SG4-TE5-MK73")  # S is never used
    assert de_kvnr_shape("R482019375") and not de_kvnr_shape("A111111111")


def test_kennitala_check_digit() -> None:
    assert is_kennitala("120174-3399") and not is_kennitala("120174-3389")


@pytest.mark.parametrize("text", [
    "Reisepassnummer von Jonas Beck: C4K7LTR2M",
    "le numéro de passeport de Julie Martin est 19FR23456",
    "pasaporte de Lucía Gómez: PAA123456",
    "paspoort van Sanne de Wit: NXR04K2L9",
    "Zoe Adams, US passport 582019344, flying Friday",
    "Oskar's passport number (S): 8B4T2K9Q1, expires 2030",
    "Dana Cole's driver's license is NY 734 211 905",
    "DL: CA Y7726510 — the guy who rear-ended me",
    "Illinois license no. Q89849427840 for the seller",
    "FL DL W425117628302 for Mo, found it in the car",
    "NJ licence on the form: K4415 88201 39920",
    "Medicare number for Mrs Ruiz: 5TG8-HJ2-KX44",
    "Sam Lee — Aetna member ID: XKJ883019274, group 77120",
    "Versichertennummer der Patientin: B902145673, Barmer",
    "Pia Holm, sort code 11-22-33, acc 12345678",
    "Lou's checking account 18827361, routing 111000025",
    "fødselsnummeret hans er 01010012356",
    "Mettes CPR er 010190-1234",
    "the parcel is for Ruth, 9 Larkspur, York YO24 1AB",
    "she lives at 51 Camino Alto, Mill Valley, CA 94941",
    "hospital no. of Kim Yoon: 00482913",
    "NI number of the man who hit my car, Dave Rudd: JT 41 22 63 C",
])
def test_someone_elses_numbers_are_found(engine: RuleEngine, text: str) -> None:
    assert actionable(engine, text, "pii"), text


@pytest.mark.parametrize("text", [
    "my passport number is 533380006, I need it for the form",
    "passport control took forever, gate C12345",
    "the MIT license and the Apache License 2.0 are permissive",
    "California license plate 7ABC123 hit me",
    "my DL is CA Y7726510 if the rental desk needs it",
    "member ID cards arrive in 10 days, says Aetna",
    "our sort code is 20-00-00, account 12345678, for donations to the food bank",
    "pay me to my account: sort code 11-22-33, acc 12345678",
    "routing numbers like 021000021 belong to banks, not people",
    "Fødselsnummer består av 11 siffer, f.eks. 01010012356 i dokumentasjonen",
    "the conference is at 1 Western Gateway, London E16 1XL, send your slides by Friday",
    "Madison Square Garden is at 4 Pennsylvania Plaza, New York, NY 10001, huge queue",
    "KubeCon EU at 1 Western Gateway, London E16 1XL — see you there",
    "policy number 12345678 is a sample from the Aetna docs",
])
def test_formats_public_places_and_own_numbers_are_not(engine: RuleEngine, text: str) -> None:
    assert not actionable(engine, text, "pii"), text
