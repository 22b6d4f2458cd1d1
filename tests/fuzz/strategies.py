"""Hypothesis strategies for hostile posts: evasive Unicode around real secrets and words."""

from __future__ import annotations

from hypothesis import strategies as st

# Fragments the rules care about, so generated text reaches their matching paths.
FRAGMENTS = [
    "AKIAZ4QW7PL2XR5NB3TD", "AKIA UJZD E8GX D6NC F10E", "ghp_R2d2C3poBb8Y0da1Wookie5Han7Solo9Leia",
    "jane.doe@gmail.com", "+1 (415) 555-0100", "4111 1111 1111 1111", "password=hunter22",
    "you idiot", "1d10t", "s t u p i d", "Project Falcon", "Globex", "views are my own",
    "we will beat earnings", "-----BEGIN RSA PRIVATE KEY-----", "QUtJQVo0UVc3UEwyWFI1TkIzVEQ=",
]
# Characters that change offsets under normalisation or trip up text handling.
ODD = ["\u200b", "\u200d", "\u202e", "\u2066", "\ufeff", "\u0301", "\u2028", "\u2029", "\r",
       "\x00", "\ud800", "ﬁ", "Ｆ", "ǅ", "ß", "İ", "а", "ο", "𝐚", "🙂", "\t", "\n", " "]

pieces = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.sampled_from(ODD),
    st.text(max_size=12),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
)
texts = st.lists(pieces, max_size=24).map("".join)
