"""Whether a post's only long numbers are references to things, not to a person.

POLICY.md: order, invoice, ticket, booking and tracking numbers, ISBNs and version or build
numbers are not personal data. The model reads the *shape* of a post with a long number in it
("e-ticket 125-4877360721 in case mine dies", "DHL Sendungsnummer 3147787858") and may call it
pii although nothing in it identifies anyone; when every long number in the post follows a word
that names what kind of reference it is, and the post says nothing of a person's details, its
own pii finding stays in the shadow log. Rule findings are not touched: a validated ID, phone
or card is evidence by construction, and a post a rule found pii in is never vetoed.
"""

from __future__ import annotations

import re

# A long number: five digits or more, in groups a person would type (spaces, dots, dashes,
# slashes), optionally after a short letter prefix (INV-, PO#).
_NUMBER = re.compile(r"(?<![\w])(?:[A-Za-z]{1,5}[-#]?)?\d(?:[\d ./-]{0,40}\d)?")
_DIGITS_AT_LEAST = 5
# What sort of reference the number is, said just before it (any of these languages).
_REFERENCE = re.compile(
    r"""(?ix)\b(?:order|orders|ordine|pedido|commande|bestellung|bestellnummer|bestell-nr
        |invoice|inv|rechnung|factura|facture|fattura|receipt|quittung|quote|po|purchase\ order
        |e-?ticket|ticket|tickets|booking|reservation|reserva|confirmation|pnr|itinerary
        |tracking|track|sendungsnummer|sendung|paket|parcel|package|shipment|suivi|colis
        |seguimiento|envío|envio|usps|ups|dhl|fedex|royal\ mail|postnl|hermes|dpd|gls
        |isbn|issn|doi|case|issue|bug|pr|build|release|version|serial|sku|part|model|item
        |flight|seat|gate|room|booth|stand|table|transaction|txn|ref|reference|referenz
        |job|run|error|code|kb|cve|rma|claim|policy|membership|loyalty|voucher|coupon)\b
        [\s:#.°-]*(?:no\.?|nr\.?|number|num|n°|nº|id|\#)?[\s:#.-]*$""")
# Words that speak of someone's details: where they appear, the model's reading stands.
_PERSONAL = re.compile(
    r"""(?ix)\bb\.\s?\d|\b(?:born|birth|birthday|dob|geboren|née|passport|licen[cs]e|ssn
        |social\ security|national\ insurance|id\ card|address|adresse|direcci[oó]n|lives
        |living|home|house|flat|apartment|wohnt|habite|phone|mobile|cell|call|ring|text|whatsapp
        |telefon|handy|iban|account|konto|card|karte|tarjeta|carte|patient|mrn|medical|nhs
        |insurance|tax|steuer)\b""")
_CONTEXT = 40


def only_reference_numbers(text: str) -> bool:
    """True when the post has at least one long number, every one of them introduced as a
    reference (order, ticket, tracking…), no e-mail address and no words of personal details."""
    if "@" in text or _PERSONAL.search(text):
        return False
    found = False
    for m in _NUMBER.finditer(text):
        if sum(ch.isdigit() for ch in m.group()) < _DIGITS_AT_LEAST:
            continue
        found = True
        before = text[max(0, m.start() - _CONTEXT):m.start()]
        prefix = re.match(r"[A-Za-z]{1,5}", m.group())
        if prefix and _REFERENCE.search(prefix.group() + " "):
            continue
        if not _REFERENCE.search(before):
            return False
    return found
