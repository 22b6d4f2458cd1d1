"""Words that say the value beside them is not a real one.

POLICY counts a number that fails its check digit, a dummy in a training record or a made-up
value for slides as benign: the post itself says nobody's data or secret is in it. These words
are the same in every pii and credentials rule, so they live here once rather than in each
rule's ``reduce`` list. A real value posted beside them ("the form said invalid, here is my
card") loses points but other evidence (a label, a provider format) can still carry it.

Credentials take only the words that deny the value outright: "invalid" beside a key is far
more often a person asking why their real key is refused ("ssh says invalid format").
"""

from __future__ import annotations

from typing import Any

from monitor.pipeline.rules.matchers import compile_words

WINDOW = 80
REDUCE_BY = 0.5
DENIED = (
    "not a real", "isn't a real", "not real", "dummy", "made-up", "made up value",
    "made up number", "made up token", "made up key", "fictitious", "fictional",
)
# Said of a token only: "a fake token from the test fixtures", "checksum is deliberately
# wrong". Beside personal data "fake" is more often the person's lie ("gave a fake name but
# his DL is …"), so pii leaves it out.
TOKEN_DENIED = ("fake", "deliberately wrong", "won't pass", "will not pass")
FAILS_CHECK = (
    "invalid", "not valid", "not a valid", "isn't valid", "isn't a valid", "is not valid",
    "fails the check", "fails its check", "failed the check", "fails the check digit",
    "failed the check digit", "wrong check digit", "check digit wrong", "check digits wrong",
    "check digit is wrong", "check digits are wrong", "bad check digit", "fails luhn",
    "fails the luhn", "failed luhn", "doesn't pass luhn", "does not pass luhn",
    # Other languages (context is matched on the clean view: accents are gone)
    "digito verificador errado", "digito verificador invalido", "digitos verificadores errados",
    "invalido", "invalida", "no es valido", "no es valida", "nao e valido", "nao e valida",
    "ungultig", "nicht gultig", "keine gultige", "non valide", "n'est pas valide",
    "non valido", "non valida", "ongeldig", "geen geldig",
)
# Category -> the words that take points off its findings.
_PATTERNS: dict[str, Any] = {
    "pii": compile_words((*DENIED, *FAILS_CHECK)),
    "credentials": compile_words((*DENIED, *TOKEN_DENIED)),
}


def says_not_real(category: str, text: str, start: int, end: int) -> str | None:
    """The word near ``text[start:end]`` that says the value is not real, if there is one."""
    pattern = _PATTERNS.get(category)
    if pattern is None:
        return None
    lo, hi = max(0, start - WINDOW), min(len(text), end + WINDOW)
    m = pattern.search(text[lo:start] + " \x00 " + text[end:hi])
    return m.group(0) if m else None


def mentions_not_real(category: str, text: str) -> str | None:
    """The word anywhere in ``text`` that says its values are not real, if there is one."""
    pattern = _PATTERNS.get(category)
    m = pattern.search(text) if pattern is not None else None
    return m.group(0) if m else None
