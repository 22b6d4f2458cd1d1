"""Normalisation and span mapping: every view offset maps into the original text, in order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.pipeline.rules.normalise import View, clean_view, fold_view, joined_view
from tests.fuzz.strategies import texts


def _check(view: View, original: str) -> None:
    if view.origin is None:  # offsets identical (leetspeak is undone in place)
        assert len(view.text) == len(original)
        return
    assert len(view.origin) == len(view.text)
    assert all(0 <= o < len(original) for o in view.origin)
    assert view.origin == sorted(view.origin)


@given(texts)
def test_every_view_maps_back_into_the_original(text: str) -> None:
    clean = clean_view(text)
    _check(clean, text)
    for leet in (False, True):
        for spaced in (False, True):
            _check(fold_view(clean, leet, spaced), text)
    joined, gaps = joined_view(clean)
    _check(joined, text)
    assert gaps == sorted(gaps) and all(0 < g < max(1, len(joined.text)) for g in gaps)


@given(texts, st.data())
def test_any_view_span_maps_to_a_span_of_the_original(text: str, data: st.DataObject) -> None:
    view = fold_view(clean_view(text))
    n = len(view.text)
    start = data.draw(st.integers(0, n))
    end = data.draw(st.integers(start, n))
    if n == 0:
        return
    s, e = view.to_original(min(start, n - 1), end)
    assert 0 <= s <= e <= len(text)


@given(texts)
def test_findings_index_the_original_text(engine, text: str) -> None:
    for f in engine.analyse(text, every_rule=True).findings:
        for a, b in f.spans:
            assert 0 <= a < b <= len(text), (f.source, a, b)


@given(st.sampled_from(["\u200b", "\u2066", "\u0301", "\ufeff"]), st.integers(1, 19))
def test_a_key_broken_by_an_invisible_character_is_found_where_it_is(engine, odd: str,
                                                                     cut: int) -> None:
    key = "AKIAZ4QW7PL2XR5NB3TD"
    text = f"deploy {odd}key {key[:cut]}{odd}{key[cut:]} now"
    spans = [s for f in engine.analyse(text).findings if f.category == "credentials"
             for s in f.spans]
    assert any(text[a:b].replace(odd, "") == key for a, b in spans), spans


WORDS = ["Project", "Falcon", "Project Falcon", "Globex", "idiot", "you", "moron", "the",
         "blahidiot", "Bluebird", "xx", "a" * 300, "Contoso Bank", "views are my own"]


@given(st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from([" ", "\n", "\t", "  ", ""])),
                min_size=1, max_size=40),
       st.integers(33_000, 60_000))
@settings(max_examples=12)
def test_long_texts_in_pieces_find_the_phrases_of_the_whole(engine, words, size: int) -> None:
    unit = "".join(w + sep for w, sep in words)
    text = (unit * (size // max(1, len(unit)) + 1))[:size]
    lex = engine._lex
    phrases = {"phrase", "organisation term"}
    whole = {h for h in lex._run(text) if h[1].split(" (")[0] in phrases}
    pieces = {h for h in lex.run(text) if h[1].split(" (")[0] in phrases}
    assert pieces == whole
