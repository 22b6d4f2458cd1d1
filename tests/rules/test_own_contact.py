"""Whose contact detail: the poster's own (not pii) or someone else's (pii), told by grammar.

The phrasings here are written for these tests, in several languages; none of them is a phrase
the rules list, so a return to phrase lists would fail here.
"""

from __future__ import annotations

import pytest

from monitor.pipeline.rules import RulesDetector
from monitor.pipeline.rules.checks import FIRE_SCORE
from monitor.pipeline.rules.engine import OWN_CONTACT_REASON
from monitor.pipeline.rules.own_contact import whose
from tests.rules.findings import actionable


def _at(text: str, value: str) -> str | None:
    i = text.index(value)
    return whose(text, i, i + len(value))


OWN = [
    "bored on the train, if anyone wants to chat my cell is +44 7911 204873",
    "new job, new inbox: my work address is now r.okafor@fabrikam-mail.net",
    "slides are up; any feedback, drop it in my inbox at t.brandt@posteo.de",
    "we're collecting RSVPs at partyplanning.hq@gmail.com, write us there",
    "Meine neue Handynummer lautet +49 176 3325 8190, bitte speichern",
    "Bei Fragen erreicht ihr mich unter lena.koch@gmx.de",
    "Pour les inscriptions, contactez-moi sur +33 6 41 27 93 05",
    "Mi correo nuevo es lucia.m.ortega@yahoo.es, apuntadlo",
    "Avísame por WhatsApp al +34 612 448 903 cuando salgas",
    "Per info mandatemi una mail a marco.bellini@libero.it",
    "Mijn nieuwe nummer is +31 6 2954 7710, sla het op",
    "Qualquer dúvida, manda mensagem pro meu número +55 21 98877-3341",
    "Gdyby co, mój numer to +48 601 228 915",
    "何かあれば私の番号 +81 80-4471-2290 にどうぞ",
    "thesis drafts go to the address below (me): j.haddad.phd@outlook.com",
    "Thanks for reading!\nKind regards,\nOla Brekke\nola.brekke@fastmail.no",
    "— Priya Raman\npriya.raman.writes@gmail.com",
    "Saludos, Nuria (nuria.p.vidal@yahoo.es)",
    "anyone want the spare bike? amara.obi.sells@gmail.com",
    "Hör av dig till mig på +46 70 318 42 67 om du vill ha soffan",
    "Kasa hakkında soru? numaram +90 532 418 77 06",
    "문의는 제 메일 seoyeon.kang@naver.com 으로",
    "napiszcie na kuba.zielinski.foto@wp.pl",
    "詳細は hana.mori@example-mail.jp までお願いします",
    "changed my mind about signal, new work number, save it: +44 7911 204873",
    "new private mail, update your address book: ines.varga.home@posteo.de",
    "warming party at our new flat on friday! 22 Birch Grove, Leeds LS6 2AB",
    "la mia nuova dirección es Calle del Pez 44, 28014 Madrid",
]

OTHER = [
    "my sister's number is +44 7911 204873, she said you could call",
    "our landlord never answers, his email is k.mercer.lettings@gmail.com",
    "this is Tomás Riley's private cell: +1 312 555 0147, go wild",
    "Die Nummer von Jana Petrow ist +49 176 3325 8190",
    "Son portable, c'est le +33 6 41 27 93 05, appelle-le",
    "El móvil de mi jefe es +34 612 448 903, no se lo digáis",
    "ask my boss directly: d.ferreira@contoso-corp.com",
    "Haar e-mail is s.devries@kpnmail.nl, stuur haar maar iets",
    "O telefone dele é +55 21 98877-3341",
    "the woman who scammed me uses lisa.quinn.deals@gmail.com",
    "Hennes nummer är +46 70 318 42 67, ring henne",
    "onun numarası +90 532 418 77 06, arayın",
    "그녀의 메일은 seoyeon.kang@naver.com 이야",
    "anyone know whose this is? his wife posted it: amara.obi.sells@gmail.com",
    "call Karen at +1 312 555 0147 and tell her what you think",
    "some guy texted me from +44 7911 204873 all night, report it",
    "el teléfono de Ximena es +34 612 448 903, yo no lo uso",
    "Ana's flat (I checked it twice): 22 Birch Grove, Leeds LS6 2AB",
]


@pytest.mark.parametrize("text", OWN)
def test_the_posters_own_contact_detail_is_not_pii(engine, text):
    assert not actionable(engine, text, "pii"), text


@pytest.mark.parametrize("text", OTHER)
def test_someone_elses_contact_detail_is_pii(engine, text):
    assert actionable(engine, text, "pii"), text


def test_an_imperative_is_the_posters_offer_unless_the_words_after_name_another_owner(engine):
    text = "urgent: call 0151 2345 6789 tonight, it's the tenant's mobile"
    assert actionable(engine, text, "pii")
    assert _at(text, "0151 2345 6789") == "other"
    assert _at("call 0151 2345 6789 now", "0151 2345 6789") == "own"


def test_the_nearest_person_reference_before_the_value_decides():
    text = "my number is +44 7700 900512 and my brother's is +44 7700 900518"
    assert _at(text, "+44 7700 900512") == "own"
    assert _at(text, "+44 7700 900518") == "other"


def test_a_sentence_boundary_ends_the_reference():
    text = "Ask Priya Nair about it. Then text me on 07700 900771"
    assert _at(text, "07700 900771") == "own"
    text = "I met her yesterday. Her number is 07700 900771"
    assert _at(text, "07700 900771") == "other"


def test_a_first_person_word_inside_a_relative_clause_does_not_make_it_own():
    text = "the plumber who overcharged me is at bert.plumbing@gmail.com"
    assert _at(text, "bert.plumbing@gmail.com") is None


def test_country_and_state_codes_are_not_first_person_words():
    # "US", "MI", "ME" in capitals name a country or a state, "(I)" a passport's issuer.
    text = "Ines Roca's US passport: 582019344"
    assert _at(text, "582019344") == "other"
    text = "licence on file for Ana Lind: MI P 278 874 034 237"
    assert _at(text, "P 278 874 034 237") == "other"
    assert _at("passport number (I): MQ7T2K9L1", "MQ7T2K9L1") is None
    # Written in capitals throughout, "CALL ME" is still the poster.
    assert _at("CALL ME ON 07700 900771", "07700 900771") == "own"


def test_my_before_a_document_word_makes_the_document_the_posters():
    assert _at("my passport number is 533380006", "533380006") == "own"
    assert _at("my DL is CA Y7726510", "CA Y7726510") == "own"
    assert _at("my sister's passport number is 533380006", "533380006") == "other"


def test_a_first_person_word_just_after_the_value_makes_it_own():
    text = "RSVP: k.lindqvist@telia.se (that's me)"
    assert _at(text, "k.lindqvist@telia.se") == "own"


def test_the_analysis_reports_the_own_contact_details_it_set_aside(engine):
    text = "ping me at r.okafor@fabrikam-mail.net"
    a = engine.analyse(text)
    assert [text[s:e] for s, e in a.own_contacts] == ["r.okafor@fabrikam-mail.net"]
    pii = [f for f in a.findings if f.category == "pii"]
    # Kept for the shadow log at score 0, with the reason, never actionable.
    assert pii and all(f.score == 0.0 for f in pii)
    assert any(OWN_CONTACT_REASON in f.explanation for f in pii)


def test_an_own_detail_beside_someone_elses_leaves_only_theirs_in_the_finding(engine):
    text = "mail me at r.okafor@fabrikam-mail.net or her at n.silva.home@gmail.com"
    found = [f for f in engine.analyse(text).findings if f.source == "rule:pii.email"]
    assert len(found) == 1 and found[0].score >= FIRE_SCORE
    assert [text[s:e] for s, e in found[0].spans] == ["n.silva.home@gmail.com"]


def test_rules_detector_says_when_a_post_offers_only_own_contact_details(engine):
    detector = RulesDetector(engine)
    assert detector.only_own_contacts("text me on +44 7700 900417 when you're here")
    assert not detector.only_own_contacts("her cell is +44 7700 900417")
    assert not detector.only_own_contacts("text me on +44 7700 900417, her SSN is 308-63-0237")
    assert not detector.only_own_contacts("no contact details here at all")


def test_own_contact_is_a_rule_option_that_defaults_to_off():
    from monitor.pipeline.rules.model import Context

    assert Context().own_contact is False
    assert Context(own_contact=True).own_contact is True
