"""Evasion-proof normalisation: homoglyphs, invisible characters, spacing, leetspeak, any Unicode."""

from __future__ import annotations

import random

import pytest

from monitor.pipeline.rules.normalise import views


def _sources(engine, text: str) -> dict[str, list[str]]:
    return {f.source: [text[a:b] for a, b in f.spans] for f in engine.analyse(text).findings}


@pytest.mark.parametrize(
    "text, rule, span",
    [
        ("shut up you \u0456d\u0456ot", "rule:off.insult-at-person", "you \u0456d\u0456ot"),  # Cyrillic і
        ("you are an id\u200bi\u200dot", "rule:off.insult-at-person", "you are an id\u200bi\u200dot"),
        ("you are an i d i o t", "rule:off.insult-at-person", "you are an i d i o t"),
        ("you are a m.o.r.o.n", "rule:off.insult-at-person", "you are a m.o.r.o.n"),
        ("ur such a 1d10t", "rule:off.insult-at-person", "ur such a 1d10t"),
        ("\uff41\uff4b\uff49\uff41 AKIAUJZDE8GXD6NCF10E", "rule:cred.aws-access-key", "AKIAUJZDE8GXD6NCF10E"),
        ("key \u202eAKIAUJZDE8GXD6NCF10E", "rule:cred.aws-access-key", "AKIAUJZDE8GXD6NCF10E"),
        ("\u0410KIAUJZDE8GXD6NCF10E leaked", "rule:cred.aws-access-key", "\u0410KIAUJZDE8GXD6NCF10E"),
        ("caf\u00e9 talk: Pr\u00f6ject F\u0430lcon ships", "rule:conf.codename", "Pr\u00f6ject F\u0430lcon"),
        ("mail d\u0430na@gmail.com", "rule:pii.email", "d\u0430na@gmail.com"),
    ],
)
def test_evasions_are_caught_with_spans_in_the_original(engine, text, rule, span) -> None:
    found = _sources(engine, text)
    assert rule in found, found
    assert found[rule] == [span]


def test_views_map_every_offset_back() -> None:
    text = "\ufeffp a s s w o r d \u0456s h\u200bunter2 \U0001d41a\U0001d41b"
    clean, folded = views(text)
    assert "password" in folded.text and "\u200b" not in clean.text
    i = folded.text.index("password")
    assert folded.to_original(i, i + 8) == (text.index("p a s"), text.index("d ") + 1)


def test_emoji_and_plain_text_keep_offsets() -> None:
    text = "great day \U0001f389\U0001f389 with the team"
    clean, folded = views(text)
    assert clean.text == text and clean.origin is None and folded.text == text


def test_weird_unicode_never_crashes(engine) -> None:
    rng = random.Random(11)
    pools = [
        "\ud800\udfff\udc00",  # lone surrogates
        "\u0300\u0301\u0302\u20dd",  # combining marks with nothing to combine with
        "\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202e\u2066\u2069",
        "\ufdfa\u0390\u1e9e\u0130\ufb01\u2163\u33c7",  # characters that expand under NFKD
        "\U0001f600\U0001f1ec\U0001f1e7\U000e0067\x00\x07\r\n\t",
        "\u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u4e2d\u6587 \ud55c\uad6d\uc5b4 \u0939\u093f\u0928\u094d\u0926\u0940",
    ]
    for _ in range(300):
        text = "".join(rng.choice(rng.choice(pools) + "aA1@ ") for _ in range(rng.randint(0, 80)))
        for f in engine.analyse(text).findings:
            for a, b in f.spans:
                assert 0 <= a <= b <= len(text)
    assert engine.analyse("").findings == []


def test_one_megabyte_post_is_analysed(engine) -> None:
    chunk = "Just shipped the release, call me on (415) 555-2671 \u00e9\u0456 AKIAUJZDE8GXD6NCF10E "
    text = (chunk * (1_048_576 // len(chunk) + 1))[:1_048_576]
    findings = engine.analyse(text).findings
    by_source = {f.source: f for f in findings}
    assert "rule:cred.aws-access-key" in by_source and "rule:pii.phone-number" in by_source
    # Spans per rule are bounded so a huge post cannot produce a huge flag.
    assert all(len(f.spans) <= 100 for f in findings)
