"""Context words written with accents match: posts are searched in their clean view (accents
undone), so the words are folded the same way."""

from __future__ import annotations

import pytest

from monitor.pipeline.rules.matchers import compile_words
from monitor.pipeline.rules.normalise import clean_view


@pytest.mark.parametrize(("word", "post"), [
    ("téléphone", "son numéro de téléphone est le 06 12 34 56 78"),
    ("Überweisung", "bitte per Überweisung an Jana"),
    ("número", "mi número es 612 345 678"),
    ("rodné", "jeho rodné číslo je 736028/5163"),
])
def test_an_accented_context_word_matches_in_the_clean_view(word: str, post: str) -> None:
    words = compile_words([word])
    assert words is not None and words.search(clean_view(post).text)


def test_an_unaccented_word_still_matches_and_others_do_not() -> None:
    words = compile_words(["telephone"])
    assert words is not None
    assert words.search(clean_view("mon téléphone").text)
    assert not words.search(clean_view("mon télescope").text)
