"""Compiled matchers: RE2 regexes and pre-filter sets, spaCy phrase and token matchers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import re2
import spacy
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Token

from monitor.errors import RuleError
from monitor.pipeline.rules.loader import LoadedRule
from monitor.pipeline.rules.normalise import clean_view, views

# Sets hold every pattern of every rule in one automaton; give them room so RE2's DFA
# does not run out of memory (it would then report no match at all).
_SET_MAX_MEM = 256 << 20
_LITERAL_KEYS = ("LOWER", "ORTH", "TEXT", "NORM")
# Texts at least this long are pre-filtered by groups of this many patterns (see PrefilterSet).
_LONG_TEXT = 32_768
_GROUP = 24
# Shorter texts go through sets of this many patterns: one automaton over every pattern has
# so many states that even a tweet builds new ones; a few mid-sized sets stay in cache and
# are about twice as fast per post (bench/bench_rules.py), still one linear pass each.
_SHORT_GROUP = 64
# Long texts reach spaCy in pieces of about this many characters, overlapping a little.
_LEXICAL_PIECE = 16_384
_LEXICAL_OVERLAP = 256
_BREAKS = (" ", "\n", "\t")  # where a long text may be cut between pieces


def _options(max_mem: int | None = None) -> re2.Options:
    opts = re2.Options()
    opts.log_errors = False
    if max_mem:
        opts.max_mem = max_mem
    return opts


def compile_regex(pattern: str, lr: LoadedRule, index: int) -> Any:
    """Compile one rule regex with RE2; a pattern RE2 rejects is a RuleError naming its line."""
    try:
        return re2.compile(pattern, _options())
    except Exception as exc:  # re2 raises its own error type from C++
        raise RuleError(
            "regular expression cannot be compiled by RE2 (linear-time engine): "
            f"{_re2_error(exc)}",
            lr.path, lr.line_of("match", "regex", index), f"match.regex[{index}]", lr.rule.id,
        ) from None


def _re2_error(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else exc
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    return str(detail)


# Token attributes a REGEX may test, and how to read each from a token.
_TOKEN_TEXT = {
    "ORTH": lambda t: t.text, "TEXT": lambda t: t.text, "LOWER": lambda t: t.lower_,
    "NORM": lambda t: t.norm_, "SHAPE": lambda t: t.shape_, "PREFIX": lambda t: t.prefix_,
    "SUFFIX": lambda t: t.suffix_, "LEMMA": lambda t: t.lemma_,
}


def _regex_extension(attr: str, pattern: str) -> str:
    """A token extension answering "does ``attr`` contain ``pattern``" with RE2 (linear time).

    spaCy's own REGEX predicate runs Python's backtracking ``re``; rule patterns never reach it.
    The name is derived from the pattern, so the same pattern shares one extension.
    """
    rx = re2.compile(pattern, _options())
    read = _TOKEN_TEXT[attr]
    name = "sg_re2_" + hashlib.sha256(f"{attr}\x00{pattern}".encode()).hexdigest()[:16]
    if not Token.has_extension(name):
        Token.set_extension(name, getter=lambda tok: rx.search(read(tok)) is not None)
    return name


def re2_token_pattern(pattern: list[dict[str, Any]], lr: LoadedRule,
                      index: int) -> list[dict[str, Any]]:
    """The token pattern with every ``REGEX`` predicate moved to RE2, or a RuleError.

    Extension attributes (``_``) are refused: rule files cannot define them, and a predicate
    inside one would again reach Python's ``re``.
    """
    where = f"match.tokens[{index}]"
    line = lr.line_of("match", "tokens", index)
    out: list[dict[str, Any]] = []
    for k, spec in enumerate(pattern):
        if not isinstance(spec, dict):
            raise RuleError("each token in a token pattern must be a mapping", lr.path, line,
                            f"{where}[{k}]", lr.rule.id)
        spec = dict(spec)
        if "_" in spec:
            raise RuleError("extension attributes ('_') are not allowed in token patterns",
                            lr.path, line, f"{where}[{k}]._", lr.rule.id)
        extensions: dict[str, bool] = {}
        for attr, value in list(spec.items()):
            if not isinstance(value, dict) or "REGEX" not in value:
                continue
            field = f"{where}[{k}].{attr}.REGEX"
            regex = value["REGEX"]
            if attr not in _TOKEN_TEXT:
                raise RuleError(f"REGEX is supported on {', '.join(_TOKEN_TEXT)} only", lr.path,
                                line, field, lr.rule.id)
            if not isinstance(regex, str):
                raise RuleError("REGEX must be a string", lr.path, line, field, lr.rule.id)
            try:
                extensions[_regex_extension(attr, regex)] = True
            except Exception as exc:  # re2 raises its own error type from C++
                raise RuleError(
                    "regular expression cannot be compiled by RE2 (linear-time engine): "
                    f"{_re2_error(exc)}", lr.path, line, field, lr.rule.id) from None
            rest = {op: v for op, v in value.items() if op != "REGEX"}
            if rest:
                spec[attr] = rest
            else:
                del spec[attr]
        if _has_regex(spec):  # e.g. nested inside FUZZY: nowhere RE2 could take it
            raise RuleError("REGEX is allowed only directly on a token attribute", lr.path,
                            line, f"{where}[{k}]", lr.rule.id)
        if extensions:
            spec["_"] = extensions
        out.append(spec)
    return out


def _has_regex(value: Any) -> bool:
    if isinstance(value, dict):
        return "REGEX" in value or any(_has_regex(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_regex(v) for v in value)
    return False


def compile_words(words: Iterable[str]) -> Any | None:
    """A case-insensitive RE2 regex matching any of ``words`` as whole words.

    Context is searched in the clean view of a post (accents and homoglyphs undone), so each
    word is folded the same way: "téléphone" in a list matches "téléphone" in a post."""
    folded: dict[str, None] = {}
    for w in words:
        if w.strip():
            folded.setdefault(w, None)
            folded.setdefault(clean_view(w).text, None)
    alts = [_literal(w) for w in folded]
    if not alts:
        return None
    return re2.compile("(?i)(?:" + "|".join(alts) + ")", _options())


def _literal(text: str) -> str:
    """A literal as an RE2 fragment: flexible whitespace, word boundaries where they apply.

    RE2's ``\\b`` knows ASCII word characters only, so a word that starts or ends in another
    script (マイナンバー, 個人番号) gets no boundary there: with one it could never match."""
    parts = [re2.escape(p) for p in text.split()]
    body = r"\s+".join(parts)
    if _ascii_word(text[:1]):
        body = r"\b" + body
    if _ascii_word(text[-1:]):
        body = body + r"\b"
    return body


def _ascii_word(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def literal_alternation(literals: Iterable[str]) -> str | None:
    """One case-insensitive RE2 pattern for a list of literals (a pre-filter entry)."""
    alts = sorted({_literal(x) for x in literals if x.strip()})
    if not alts:
        return None
    return "(?i)(?:" + "|".join(alts) + ")"


def token_anchors(pattern: list[dict[str, Any]]) -> list[str] | None:
    """Literal words one of which must occur for a token pattern to match (None if none must).

    Of the required tokens with literal values, the one whose shortest word is longest is
    chosen: "idiot|moron" is a far better pre-filter than "you|u".
    """
    best: list[str] | None = None
    for spec in pattern:
        if spec.get("OP") in ("?", "*", "!"):
            continue
        for key in _LITERAL_KEYS:
            value = spec.get(key)
            words: list[str] = []
            if isinstance(value, str):
                words = [value]
            elif isinstance(value, dict) and isinstance(value.get("IN"), list):
                words = [v for v in value["IN"] if isinstance(v, str)]
            if words and (best is None or min(map(len, words)) > min(map(len, best))):
                best = words
    return best


class PrefilterSet:
    """One RE2 set over many patterns: tells in one linear pass which of them occur at all.

    On long texts (a pasted file, a 1 MB blob) one automaton over every pattern visits so many
    states that its cache thrashes; there the same patterns run as several smaller sets, which
    is still linear and several times faster per byte. Short posts keep the single pass.
    """

    def __init__(self) -> None:
        self._full = re2.Set.SearchSet(_options(_SET_MAX_MEM))
        self._set: Any = None
        self.owners: list[int] = []
        self._patterns: list[str] = []
        self._groups: list[tuple[Any, list[int]]] | None = None
        self._short: list[tuple[Any, list[int]]] = []
        self._empty = True

    def add(self, pattern: str, owner: int) -> None:
        self._full.Add(pattern)
        self.owners.append(owner)
        self._patterns.append(pattern)
        self._empty = False

    def compile(self) -> None:
        if not self._empty:
            self._full.Compile()
            self._set = self._full._set
            if len(self._patterns) > _SHORT_GROUP:
                self._short = self._split(_SHORT_GROUP, _SET_MAX_MEM // 4)

    def _split(self, size: int, max_mem: int) -> list[tuple[Any, list[int]]]:
        """The patterns as consecutive sets of ``size``, each with its own memory budget.

        Each entry is the binding's own set object (called with UTF-8 bytes: the text is
        encoded once for all sets, not once per set) and the owners of its patterns.
        """
        groups = []
        for start in range(0, len(self._patterns), size):
            part = re2.Set.SearchSet(_options(max_mem))
            for pattern in self._patterns[start:start + size]:
                part.Add(pattern)
            part.Compile()
            groups.append((part._set, self.owners[start:start + size]))
        return groups

    def _grouped(self) -> list[tuple[Any, list[int]]]:
        if self._groups is None:
            self._groups = self._split(_GROUP, _SET_MAX_MEM // 8)
        return self._groups

    def hits(self, text: str) -> list[int]:
        """Indices (as given to :meth:`add`) of entries that occur in ``text``."""
        if self._empty:
            return []
        data = text.encode("utf-8")
        groups = self._grouped() if len(text) >= _LONG_TEXT else self._short
        if groups:
            out: list[int] = []
            for part, owners in groups:
                for i in part.Match(data):
                    out.append(owners[i])
            return out
        return [self.owners[i] for i in self._set.Match(data)]


class LexicalMatchers:
    """spaCy PhraseMatcher (case-insensitive) and Matcher over a blank English tokenizer."""

    def __init__(self) -> None:
        self.nlp = spacy.blank("en")
        # Only the tokenizer runs (no parser or NER), so long posts are safe to tokenise.
        self.nlp.max_length = 50_000_000
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.tokens = Matcher(self.nlp.vocab, validate=True)
        # spaCy match id (a hash) -> (rule index, label for explanations)
        self.labels: dict[int, tuple[int, str]] = {}
        self.size = 0

    def add_phrases(self, key: str, rule_index: int, label: str, phrases: list[str]) -> None:
        docs = [self.nlp.make_doc(views(p)[1].text) for p in phrases if p.strip()]
        if not docs:
            return
        self.phrases.add(key, docs)
        self.labels[self.nlp.vocab.strings[key]] = (rule_index, label)
        self.size += 1

    def add_tokens(self, key: str, rule_index: int, label: str, pattern: list[dict[str, Any]],
                   lr: LoadedRule, index: int) -> None:
        pattern = re2_token_pattern(pattern, lr, index)
        try:
            self.tokens.add(key, [pattern])
        except Exception as exc:  # spaCy raises ValueError or MatcherError subclasses
            raise RuleError(
                f"invalid token pattern: {str(exc).splitlines()[0]}",
                lr.path, lr.line_of("match", "tokens", index), f"match.tokens[{index}]", lr.rule.id,
            ) from None
        self.labels[self.nlp.vocab.strings[key]] = (rule_index, label)
        self.size += 1

    def run(self, text: str) -> list[tuple[int, str, int, int]]:
        """(rule index, label, start char, end char) for every phrase or token match in ``text``.

        Long texts are tokenised in overlapping pieces cut at whitespace: spaCy's tokenizer
        slows down more than linearly on one huge token (a pasted blob), a phrase is short.
        """
        if len(text) <= _LEXICAL_PIECE * 2:
            return self._run(text)
        seen: set[tuple[int, str, int, int]] = set()
        out: list[tuple[int, str, int, int]] = []
        pos = 0
        while pos < len(text):
            end = min(len(text), pos + _LEXICAL_PIECE)
            if end < len(text):
                cut = max(text.rfind(c, pos + _LEXICAL_PIECE // 2, end) for c in _BREAKS)
                end = cut if cut > 0 else end
            start = max(0, pos - _LEXICAL_OVERLAP)
            if start:
                # Begin the overlap at a word boundary: a piece that starts mid-word would
                # read the word's tail as a token of its own ("blahidiot" -> "idiot").
                found = [i for c in _BREAKS if (i := text.find(c, start, pos)) >= 0]
                start = min(found) + 1 if found else pos
            for idx, label, a, b in self._run(text[start:end]):
                hit = (idx, label, a + start, b + start)
                if hit not in seen:
                    seen.add(hit)
                    out.append(hit)
            pos = end
        return out

    def _run(self, text: str) -> list[tuple[int, str, int, int]]:
        doc: Doc = self.nlp.make_doc(text)
        out: list[tuple[int, str, int, int]] = []
        for matcher in (self.phrases, self.tokens):
            if not len(matcher):
                continue
            for match_id, start, end in matcher(doc):
                rule_index, label = self.labels[match_id]
                span = doc[start:end]
                out.append((rule_index, label, span.start_char, span.end_char))
        return out
