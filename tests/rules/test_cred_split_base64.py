"""Validators for tokens given in pieces and credentials pasted as base64."""

from __future__ import annotations

import base64

import pytest

from monitor.pipeline.rules.validators import base64_token, split_token


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("value", [
    "glpat-Q7vRw2Lx9\npart 2: Tz4mKp8sNc3yB",
    "whsec_7JqLp2Vx9RtM4wZb\nsecond half: Hs3Kd8YcN6fQa1Ue",
    "key-3f9a0c7e51b2d8\npart 2: 46e0a9c1f7b3d25e8a",
    "g h r _ 8 T q L 2 v X m R 4 p W 9 s K d 3 N y B 6 h F c 1 Z g J 7 t Q a M e 5 U o",
])
def test_split_token_joins_pieces_of_a_format(value: str) -> None:
    assert split_token(value, 3.3)


@pytest.mark.parametrize("value", [
    "glpat-Q7vRw2Lx9 and part 2 covers rotation",
    "key-facts\npart 2: details",
    "whsec_7JqLp2Vx9RtM4wZb\npart 2: xxxxxxxxxxxxxxxx",
    "g h p _ is how the prefix is spelled",
])
def test_split_token_refuses_words_and_wrong_lengths(value: str) -> None:
    assert not split_token(value, 3.3)


def test_base64_token_needs_one_random_token() -> None:
    assert base64_token(_b64("NqVwYS81VP7Hb1DX8pPd5khxE3pyIgKpaUnArl63XykWZeiN"), 4.2)
    assert not base64_token(_b64("hello world, this is just text"), 4.2)
    assert not base64_token(_b64("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"), 4.2)


def test_joined_view_joins_a_token_read_out_one_character_at_a_time() -> None:
    from monitor.pipeline.rules.normalise import clean_view, joined_view

    view, gaps = joined_view(clean_view("it is A Q V N 7 k B c 2 f I W 9 k z u W H n S m ok"))
    assert "AQVN7kBc2fIW9kzuWHnSm" in view.text and gaps
    view, gaps = joined_view(clean_view("a b c and x y z stay apart"))
    assert view.text == "a b c and x y z stay apart" and not gaps
