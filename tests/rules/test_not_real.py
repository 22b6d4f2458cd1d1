"""Words that call a value unreal take points off pii and credentials findings, once for all rules."""

from __future__ import annotations

from monitor.pipeline.rules.not_real import mentions_not_real, says_not_real


def test_a_failed_check_is_read_for_pii_but_not_for_credentials() -> None:
    text = "the form rejected 4594 5606 6138 3214 as an invalid card number"
    start = text.index("4594")
    assert says_not_real("pii", text, start, start + 19) == "invalid"
    assert says_not_real("credentials", text, start, start + 19) is None


def test_fake_denies_a_token_but_not_personal_data() -> None:
    assert mentions_not_real("credentials", "a fake token from the fixtures: ghp_x") == "fake"
    assert mentions_not_real("pii", "gave the cops a fake name but his DL is CA M1252449") is None


def test_words_far_from_the_value_do_not_count() -> None:
    text = "this one is a dummy. " + "x" * 120 + " card 4111 1111 1111 1111"
    start = text.index("4111")
    assert says_not_real("pii", text, start, len(text)) is None
    assert mentions_not_real("pii", text) == "dummy"


def test_other_categories_have_no_such_words() -> None:
    assert says_not_real("offensive", "a made-up insult", 0, 5) is None
