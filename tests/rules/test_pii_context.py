"""PII told by the words around a value: look-alikes of e-mail addresses, organisations' own
channels, test cards, and numbers presented as someone's even when a check digit is wrong."""

from __future__ import annotations

import pytest

from monitor.pipeline.rules import EXAMPLE_POLICY, RuleEngine, load_rules, policy_terms
from monitor.pipeline.rules.id_checks import document_number, email_address, spelled_digits
from monitor.resources import rules_dir
from tests.rules.findings import actionable


@pytest.fixture(scope="module")
def engine() -> RuleEngine:
    return RuleEngine(load_rules([rules_dir()]), policy_terms(EXAMPLE_POLICY))


def test_email_address_check_tells_handles_and_urls_apart() -> None:
    assert email_address("dana.whitfield@gmail.com")
    assert not email_address("@dana@mastodon.social")
    assert not email_address("postgres://app:s3cret@db.example.net")


def test_spelled_digits_counts_digit_words() -> None:
    assert spelled_digits("four one five, five five five, two six seven one")
    assert spelled_digits("null-eins-funf-eins / zwei-drei-vier-funf")
    assert not spelled_digits("one two three four five six seven")  # counting
    assert not spelled_digits("five five five five five five five")
    assert not spelled_digits("two six seven")  # too short


def test_document_number_mixes_letters_and_digits() -> None:
    assert document_number("KX7Q42M19") and document_number("WDL4J92P83B7")
    assert not document_number("ABCDEFGHI") and not document_number("20241118")


@pytest.mark.parametrize("text", [
    "@rowan@fosstodon.org thanks for the review, merged it",
    "hey @mira@hachyderm.io @leo@mastodon.social see you at the meetup",
    "try redis://default:Xr9wq2kLm@cache.internal.example:6379 if the other fails",
    "mongodb+srv://svc:pA55w0rd@cluster9.abcde.mongodb.net/app is the new one",
    "the DSN is https://0f9e8d7c6b5a49382716@o44120.ingest.sentry.io/99812",
])
def test_handles_and_url_credentials_are_not_email_addresses(engine: RuleEngine, text: str) -> None:
    assert not actionable(engine, text, "pii"), text


@pytest.mark.parametrize("text", [
    "Not my team, but the official helpline is +1 303 555 0147, they can sort it",
    "El canal oficial es atencion@marisol-hoteles.es, yo solo trabajo en cocina",
    "please write to kundenservice@lindenhaus.de, that's where complaints go",
    "for group bookings use reservations@harbourinn.example.org, the desk answers fast",
    "journalists: press@orchardline.example.co.uk or +44 20 7946 0321",
])
def test_organisations_published_channels_are_not_findings(engine: RuleEngine, text: str) -> None:
    assert not actionable(engine, text, "pii"), text


@pytest.mark.parametrize("text", [
    "en modo test usad la tarjeta 4000 0000 0000 9995 para ver un rechazo",
    "テスト用のカード 4000 0566 5566 5556 は本番では使えません",
    "im Testmodus geht die Testkarte 5555 5555 5555 4444 immer durch",
])
def test_test_cards_in_a_test_context_are_benign(engine: RuleEngine, text: str) -> None:
    assert not actionable(engine, text, "pii"), text


@pytest.mark.parametrize("text", [
    # Someone else's contact details and numbers stay findings.
    "you can reach Dana at dana.whitfield@gmail.com if you need her",
    "her number is +1 303 555 0148, she said to call after six",
    # A card presented as a card; the check digit does not have to be right.
    "found a card by the till: 4532 7781 0093 2214, exp 06/29, name Omar Reyes",
    "full card 4 9 1 6 2 2 8 1 0 0 4 3 5 5 1 2, cvv 318, from the lost wallet",
    # Labelled national IDs whose check digit fails.
    "PESEL nowego kierowcy: 90120311112, Jan Zieliński",
    "Müşterinin TC kimlik numarası 28471936502, adı Can Yılmaz",
    "personnummer till hyresgästen: 19850417-3312",
    "her national insurance number is QQ 98 76 54 B, from the payslip",
    # Numbers read out and e-mails spelled letter by letter.
    "her cell is seven one eight, five five five, zero one four two. call her",
    "the scammer is t o m . b e r g @ g m a i l . c o m, report him",
    "el correo del cliente: pablo.ruiz [arroba] hotmail [punto] es",
    # Addresses without a postcode, said to be someone's.
    "the guy who scratched my car: Lou Brandt, 5521 Kessler Ave Apt 2, Tacoma WA",
    "a ex-chefe dele mora na Rua dos Pinheiros 415, apto 81",
    "Contact list: Noor Bakker, 06 2741 8830, Lindenlaan 22, Haarlem",
    # Health, passport, licence, birth date and bank numbers in context.
    "MRN 52-118-7730 for the patient in bay 3",
    "health insurance member id for Tom Reyes: HX7730291184",
    "passport number of our visitor, Lina Park: M73019284",
    "the other driver's licence is NV 4481029375, I took a photo",
    "Tomás Díaz (DOB 3/11/1982) called about the loan again",
    "refund goes to Priya Nair, A/c 30029184773, IFSC SBIN0004411",
    "Lena's bank details, DE27 1001 0010 0987 6543 21, for the deposit",
])
def test_someone_elses_data_is_found(engine: RuleEngine, text: str) -> None:
    assert actionable(engine, text, "pii"), text


@pytest.mark.parametrize("text", [
    "order 4532 7781 0093 2214 shipped with the gift card",
    "SSN fields in the mockup are 000-00-0000, nothing real",
    "my DOB is 2/2/1990 if the form needs it",
    "California license plate 7XYZ123 on the dashcam",
    "she lives in a small town near the coast",
    "one two three four five six seven eight, that's how many numbers I can count",
])
def test_look_alikes_are_not_found(engine: RuleEngine, text: str) -> None:
    assert not actionable(engine, text, "pii"), text
