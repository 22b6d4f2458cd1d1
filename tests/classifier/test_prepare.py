"""What the policy model reads: organisation terms as typed placeholders, rule evidence, and
offsets that map back to the post as written."""

from __future__ import annotations

from monitor.pipeline.classifier.prepare import EVIDENCE, MAX_CHARS, PLACEHOLDERS, Terms, prepare

TERMS = Terms.from_lists(company=["Northwind Labs", "Northwind"], codename=["Heron"],
                         nda_customer=["Contoso Bank"], competitor=["Globex"])


def test_organisation_terms_become_typed_placeholders_case_insensitively() -> None:
    p = prepare("heron ships to CONTOSO BANK before Globex", TERMS)
    assert PLACEHOLDERS["codename"][0] in p.text
    assert PLACEHOLDERS["nda_customer"][0] in p.text
    assert PLACEHOLDERS["competitor"][0] in p.text
    assert "heron" not in p.text.lower() and "contoso" not in p.text.lower()


def test_the_longest_term_wins() -> None:
    p = prepare("I work at Northwind Labs", TERMS)
    assert p.text.count(PLACEHOLDERS["company"][0]) == 1 and "Labs" not in p.text


def test_terms_match_whole_words_only() -> None:
    assert "Herons" in prepare("Herons nest by the lake", TERMS).text


def test_placeholder_offsets_map_back_to_the_original_span() -> None:
    text = "Big news: Contoso Bank signs with us"
    p = prepare(text, TERMS)
    i = p.text.index(PLACEHOLDERS["nda_customer"][0])
    a, b = p.original(i, i + len(PLACEHOLDERS["nda_customer"][0]))
    assert text[a:b] == "Contoso Bank"


def test_rule_spans_of_credentials_become_a_secret_placeholder() -> None:
    text = "key: AKIAIOSFODNN7EXAMPLQ thanks"
    p = prepare(text, None, [(5, 25, "credentials")], ["credentials"])
    assert "AKIA" not in p.text and PLACEHOLDERS["secret"][0] in p.text
    assert p.evidence == ("credentials",)


def test_evidence_keeps_the_fixed_category_order() -> None:
    p = prepare("x", None, [], ["company_voice", "offensive", "nonsense"])
    assert p.evidence == ("offensive", "company_voice")
    assert set(p.evidence) <= set(EVIDENCE)


def test_emojis_read_as_names_and_runs_read_once() -> None:
    p = prepare("great 😂😂😂 day")
    assert p.text.count("face with tears of joy") == 1


def test_plain_text_is_unchanged_and_maps_one_to_one() -> None:
    text = "A plain sentence, nothing to replace."
    p = prepare(text)
    assert p.text == text
    assert p.original(2, 7) == (2, 7)


def test_a_huge_post_is_capped() -> None:
    p = prepare("word " * 300_000)
    assert len(p.text) <= MAX_CHARS


def test_empty_text_prepares_to_nothing() -> None:
    p = prepare("")
    assert p.text == "" and p.original(0, 1) == (0, 0)
