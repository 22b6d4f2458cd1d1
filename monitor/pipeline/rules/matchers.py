"""Compiled matchers: RE2 regexes and pre-filter sets, spaCy phrase and token matchers."""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
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
# The patterns left in sets once gates take out the rare ones (see PrefilterSet) are those that
# could match almost anywhere; together they build the most states, so they share smaller sets
# (16: about 2.7x faster than 64 on bench posts, and faster than 8).
_SHARED_GROUP = 16
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


# -- gates: what every match of a pattern must contain -------------------------------------
#
# A pattern in a pre-filter set costs one RE2 call per set per post, whatever it looks like.
# Most patterns cannot match most posts for a reason visible without running them: a word
# that must occur ("hooks.slack.com", "password"), or a run of digits or of token characters
# at least so long (a 32-character hex key). These conditions are derived from the pattern's
# syntax tree (RE2 syntax read by Python's own regex parser; a pattern it reads differently or
# cannot read gets no condition), checked per post in a few byte operations and one RE2 set of
# literals, and a set of patterns runs only when one of its patterns could match. A condition
# is only ever necessary, never sufficient: the set still decides, so the answer is exact.

_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

_MAX_SET = 24       # most strings an exact or required set may hold
_MAX_LEN = 40       # longest string kept in one
# Characters RE2 (?i) folds onto ASCII letters from outside ASCII (Kelvin sign, long s).
_FOLDS = {"k": "\u212a", "s": "\u017f"}
_DIGITS = frozenset("0123456789")
_WORD = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_SPACE = frozenset("\t\n\f\r ")
_CATEGORY = {_c.CATEGORY_DIGIT: _DIGITS, _c.CATEGORY_WORD: _WORD, _c.CATEGORY_SPACE: _SPACE}


@dataclass(slots=True)
class _Info:
    minlen: int
    chars: frozenset[str] | None       # every character a match may hold; None: unbounded
    exact: frozenset[str] | None       # every string the node matches (lower case), if few
    req: frozenset[str] | None         # one of these occurs in every match (lower case)
    runs: dict[str, int]               # class name -> a run at least this long in every match


def _quality(s: frozenset[str] | None) -> tuple[int, int]:
    if not s:
        return (0, 0)
    return (min(map(len, s)), -len(s))


def _better(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    return b if _quality(b) > _quality(a) else a


def _product(a: frozenset[str], b: frozenset[str]) -> frozenset[str] | None:
    if len(a) * len(b) > _MAX_SET:
        return None
    out = frozenset(x + y for x in a for y in b)
    return out if all(len(x) <= _MAX_LEN for x in out) else None


def _chars_of_literal(ch: str, icase: bool) -> frozenset[str]:
    if icase and ch.isascii() and ch.isalpha():
        lo = ch.lower()
        extra = _FOLDS.get(lo)
        return frozenset({lo, ch.upper()} | ({extra} if extra else set()))
    return frozenset({ch})


class _Unsupported(Exception):
    """A construct the analysis does not know: the pattern gets no gate."""


def _low(ch: str) -> str | None:
    low = ch.lower().replace("\u017f", "s")
    return low if low.isascii() else None


def _set_exact(chars: frozenset[str] | None) -> frozenset[str] | None:
    if chars is None or len(chars) > 8:
        return None
    out = set()
    for ch in chars:
        low = _low(ch)
        if low is None:
            return None
        out.add(low)
    return frozenset(out)


RUN_CLASSES: dict[str, frozenset[str]] = {
    "digit": _DIGITS,
    "alnum": _WORD - {"_"} | frozenset(_FOLDS.values()),
    "token": _WORD | frozenset("+/=.-~") | frozenset(_FOLDS.values()),
}


def _class(items: list[Any], icase: bool) -> frozenset[str] | None:
    out: set[str] = set()
    for op, av in items:
        if op is _c.LITERAL:
            out |= _chars_of_literal(chr(av), icase)
        elif op is _c.RANGE:
            lo, hi = av
            if hi > 0x7F:
                return None
            for o in range(lo, hi + 1):
                out |= _chars_of_literal(chr(o), icase)
        elif op is _c.CATEGORY and av in _CATEGORY:
            out |= _CATEGORY[av]
        else:  # NEGATE, negated categories
            return None
    return frozenset(out)


def _leaf(chars: frozenset[str] | None, minlen: int = 1) -> _Info:
    runs = {k: 1 for k, cls in RUN_CLASSES.items() if chars is not None and chars <= cls}
    exact = _set_exact(chars)
    return _Info(minlen, chars, exact, exact, runs)


def _seq(items: list[Any], icase: bool) -> _Info:
    infos = [_node(op, av, icase) for op, av in items]
    minlen = sum(i.minlen for i in infos)
    chars: frozenset[str] | None = frozenset()
    for i in infos:
        chars = None if chars is None or i.chars is None else chars | i.chars
    exact: frozenset[str] | None = frozenset({""})
    req: frozenset[str] | None = None
    cur: frozenset[str] = frozenset({""})
    for i in infos:
        if exact is not None:
            exact = None if i.exact is None else _product(exact, i.exact)
        req = _better(req, i.req)
        if i.exact is None:
            cur = frozenset({""})
            continue
        p = _product(cur, i.exact)
        cur = i.exact if p is None else p
        req = _better(req, cur)
    runs: dict[str, int] = {}
    for k, cls in RUN_CLASSES.items():
        chain = best = 0
        for i in infos:
            if i.chars is not None and i.chars <= cls:
                chain += i.minlen
            else:
                chain = 0
                best = max(best, i.runs.get(k, 0))
            best = max(best, chain)
        if best:
            runs[k] = best
    return _Info(minlen, chars, exact, _better(req, exact), runs)


def _branch(branches: list[list[Any]], icase: bool) -> _Info:
    infos = [_seq(b, icase) for b in branches]
    minlen = min(i.minlen for i in infos)
    chars: frozenset[str] | None = frozenset()
    exact: frozenset[str] | None = frozenset()
    req: frozenset[str] | None = frozenset()
    for i in infos:
        chars = None if chars is None or i.chars is None else chars | i.chars
        exact = None if exact is None or i.exact is None else exact | i.exact
        best = _better(i.req, i.exact)
        req = None if req is None or not best else req | best
    if exact is not None and len(exact) > _MAX_SET:
        exact = None
    if req is not None and len(req) > _MAX_SET:
        req = None
    runs = {k: min(i.runs.get(k, 0) for i in infos) for k in RUN_CLASSES}
    return _Info(minlen, chars, exact, req or None, {k: v for k, v in runs.items() if v})


def _node(op: Any, av: Any, icase: bool) -> _Info:
    if op is _c.LITERAL:
        return _leaf(_chars_of_literal(chr(av), icase))
    if op is _c.IN:
        return _leaf(_class(av, icase))
    if op in (_c.NOT_LITERAL, _c.ANY):
        return _leaf(None)
    if op is _c.AT:
        return _Info(0, frozenset(), frozenset({""}), None, {})
    if op is _c.BRANCH:
        return _branch(av[1], icase)
    if op is _c.SUBPATTERN:
        _group, add, drop, sub = av
        ic = (icase or bool(add & _c.SRE_FLAG_IGNORECASE)) and not drop & _c.SRE_FLAG_IGNORECASE
        return _seq(list(sub), ic)
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
        lo, hi, sub = av
        child = _seq(list(sub), icase)
        exact = None
        if child.exact is not None and hi is not _c.MAXREPEAT and hi <= 3:
            acc: set[str] = set()
            power: frozenset[str] | None = frozenset({""})
            for k in range(hi + 1):
                if power is None:
                    break
                if k >= lo:
                    acc |= power
                power = _product(power, child.exact)
            exact = frozenset(acc) if power is not None and len(acc) <= _MAX_SET else None
        runs: dict[str, int] = dict(child.runs) if lo else {}
        if child.chars is not None:
            for name, cls in RUN_CLASSES.items():
                if child.chars <= cls and lo * child.minlen:
                    runs[name] = max(runs.get(name, 0), lo * child.minlen)
        req = _better(child.req, child.exact) if lo else None
        return _Info(lo * child.minlen, child.chars, exact, _better(req, exact), runs)
    raise _Unsupported(str(op))


_RE2_ONLY = ("\\Q", "\\p", "\\P", "\\C", "\\z", "\\x{")
_POSIX = re.compile(r"\[:\^?[a-z]+:\]")


def _analyse(pattern: str) -> _Info | None:
    """What every match of ``pattern`` (RE2 syntax) must contain, or None if not derivable."""
    if any(s in pattern for s in _RE2_ONLY) or _POSIX.search(pattern):
        return None
    try:
        parsed = _parser.parse(pattern)
        return _seq(list(parsed), bool(parsed.state.flags & _c.SRE_FLAG_IGNORECASE))
    except Exception:  # a pattern Python's parser reads otherwise or not at all: no gate
        return None


def _shape(members: Iterable[str], high: bool) -> bytes:
    """A bytes.translate table: ``x`` for the members (and every non-ASCII byte if ``high``)."""
    keep = {ord(ch) for ch in members if ch.isascii()}
    return bytes(0x78 if b in keep or (high and b >= 0x80) else 0x20 for b in range(256))


# Runs are counted in UTF-8 bytes with every non-ASCII byte counted in: a run is never shorter
# than in characters, and the two non-ASCII letters RE2 folds onto k and s are covered.
_SHAPES = {"digit": _shape(_DIGITS, False), "alnum": _shape(RUN_CLASSES["alnum"], True),
           "token": _shape(RUN_CLASSES["token"], True)}


@dataclass(slots=True)
class Gate:
    """Conditions every match of a pattern meets: one of ``words`` occurs (case-insensitively),
    and for each class in ``runs`` a run of at least that many of its characters."""

    words: frozenset[str] | None
    runs: dict[str, int]

    def odds(self) -> float:
        """A rough chance that an ordinary post meets the gate (orders the sets, nothing else)."""
        p = 1.0
        if self.words:
            p = min(1.0, sum(0.5 if len(w) == 1 else 0.2 if len(w) == 2 else
                             0.05 if len(w) == 3 else 0.01 for w in self.words))
        need = self.runs
        for cls, limits in (("digit", ((1, 0.6), (2, 0.35), (3, 0.05), (99, 0.02))),
                            ("alnum", ((8, 1.0), (12, 0.3), (19, 0.1), (999, 0.02))),
                            ("token", ((12, 1.0), (19, 0.3), (27, 0.15), (999, 0.02)))):
            if cls in need:
                p = min(p, next(q for top, q in limits if need[cls] <= top))
        return p


_MIN_WORD = 3
# Patterns whose gate lets fewer posts than this through are searched one by one.
_DIRECT_ODDS = 0.1
# The run lengths a post is checked for (a gate's need is rounded down to one of them).
_RUN_STEPS = (1, 2, 3, 4, 6, 8, 12, 16, 20, 24, 32, 40)


def pattern_gate(pattern: str) -> Gate:
    """What every match of ``pattern`` must contain (nothing, when it cannot be derived)."""
    info = _analyse(pattern)
    if info is None:
        return Gate(None, {})
    # A one- or two-letter word occurs in nearly every post: no use as a gate, and it would
    # only make the set of words slower.
    words = info.req if info.req and min(map(len, info.req)) >= _MIN_WORD else None
    return Gate(words, dict(info.runs))


class PrefilterSet:
    """Tells in one linear pass per set which of many patterns occur in a text at all.

    Short texts go through sets of up to ``_SHORT_GROUP`` patterns (one automaton over every
    pattern has so many states that even a tweet builds new ones), each run only when the
    text meets the gate of at least one of its patterns (see :func:`pattern_gate`). On long
    texts (a pasted file, a 1 MB blob) the same patterns run as smaller sets, which is still
    linear and several times faster per byte.
    """

    def __init__(self) -> None:
        self._set = re2.Set.SearchSet(_options(_SET_MAX_MEM))
        self.owners: list[int] = []
        self._patterns: list[str] = []
        self._groups: list[tuple[Any, list[int]]] | None = None
        # Short texts: (set, patterns it holds as a bit mask, owners of each of its entries).
        self._short: list[tuple[Any, int, list[list[int]]]] = []
        self._words: Any | None = None
        self._word_masks: list[int] = []
        self._no_words = 0
        # Per character class: its translate table, the runs some gate needs (sorted, as
        # b"xxx..."), and for each, the patterns that need a run longer than the one before it.
        self._run_steps: list[tuple[bytes, list[bytes], list[int]]] = []
        self._direct: dict[int, tuple[Any, list[int]]] = {}
        self._direct_mask = 0
        self._gated = False
        self._empty = True

    def add(self, pattern: str, owner: int) -> None:
        self._set.Add(pattern)
        self.owners.append(owner)
        self._patterns.append(pattern)
        self._empty = False

    def compile(self) -> None:
        if not self._empty:
            self._set.Compile()
            if len(self._patterns) > _SHORT_GROUP:
                self._compile_gated()
                self._gated = True

    def _compile_gated(self) -> None:
        owners: dict[str, list[int]] = {}
        for pattern, owner in zip(self._patterns, self.owners, strict=True):
            owners.setdefault(pattern, []).append(owner)
        distinct = list(owners)
        gates = [pattern_gate(p) for p in distinct]
        words: dict[str, int] = {}
        for i, gate in enumerate(gates):
            if not gate.words:
                self._no_words |= 1 << i
                continue
            for w in gate.words:
                k = words.setdefault(w, len(words))
                if k == len(self._word_masks):
                    self._word_masks.append(0)
                self._word_masks[k] |= 1 << i
        if words:
            self._words = re2.Set.SearchSet(_options(_SET_MAX_MEM // 4))
            for w in words:
                self._words.Add("(?i)" + re2.escape(w))
            self._words.Compile()
        for cls, table in _SHAPES.items():
            # Needs are rounded down to a few lengths, so a post is checked with a few finds.
            needs = [max((n for n in _RUN_STEPS if n <= g.runs.get(cls, 0)), default=0)
                     for g in gates]
            limits = sorted({n for n in needs if n})
            if limits:
                # blocked[j]: the patterns that need a longer run than limits[j - 1] (j > 0).
                blocked = [sum(1 << i for i, n in enumerate(needs) if n > lo)
                           for lo in [0, *limits]]
                self._run_steps.append((table, [b"x" * n for n in limits], blocked))
        # A pattern few posts could match is searched on its own when its gate lets it: in a
        # set it would add states to every post's automaton. The others share sets, in order.
        shared: list[int] = []
        for i, gate in enumerate(gates):
            if gate.odds() < _DIRECT_ODDS:
                # A set of one: RE2 answers "does it occur" from its automaton alone.
                alone = re2.Set.SearchSet(_options(_SET_MAX_MEM // 8))
                alone.Add(distinct[i])
                alone.Compile()
                self._direct[i] = (alone._set, owners[distinct[i]])
                self._direct_mask |= 1 << i
            else:
                shared.append(i)
        for start in range(0, len(shared), _SHARED_GROUP):
            part = re2.Set.SearchSet(_options(_SET_MAX_MEM // 4))
            mask = 0
            entries: list[list[int]] = []
            for i in shared[start:start + _SHARED_GROUP]:
                part.Add(distinct[i])
                mask |= 1 << i
                entries.append(owners[distinct[i]])
            part.Compile()
            self._short.append((part._set, mask, entries))

    def _split(self, size: int, max_mem: int) -> list[tuple[Any, list[int]]]:
        """The patterns as consecutive sets of ``size``, each with its own memory budget."""
        groups = []
        for start in range(0, len(self._patterns), size):
            part = re2.Set.SearchSet(_options(max_mem))
            for pattern in self._patterns[start:start + size]:
                part.Add(pattern)
            part.Compile()
            groups.append((part, list(range(start, min(start + size, len(self._patterns))))))
        return groups

    def _grouped(self) -> list[tuple[Any, list[int]]]:
        if self._groups is None:
            self._groups = self._split(_GROUP, _SET_MAX_MEM // 8)
        return self._groups

    def _possible(self, data: bytes) -> int:
        """The patterns (as a bit mask) whose gate ``data`` meets."""
        ok = self._no_words
        if self._words is not None:
            for k in self._words._set.Match(data) or ():
                ok |= self._word_masks[k]
        for table, runs, blocked in self._run_steps:
            shape = data.translate(table)
            lo, hi = 0, len(runs)
            while lo < hi:  # how many of the (sorted) run lengths the text has
                mid = (lo + hi) // 2
                if runs[mid] in shape:
                    lo = mid + 1
                else:
                    hi = mid
            ok &= ~blocked[lo]
        return ok

    def hits(self, text: str) -> list[int]:
        """Indices (as given to :meth:`add`) of entries that occur in ``text``."""
        if self._empty:
            return []
        if len(text) >= _LONG_TEXT:
            out: list[int] = []
            for part, index in self._grouped():
                found = part.Match(text)
                if found:
                    out.extend(self.owners[index[i]] for i in found)
            return out
        data = text.encode("utf-8")
        if self._gated:
            possible = self._possible(data)
            out = []
            for part, mask, entries in self._short:
                if possible & mask:
                    for i in part.Match(data) or ():
                        out.extend(entries[i])
            alone = possible & self._direct_mask
            while alone:
                bit = alone & -alone
                alone ^= bit
                alone_set, owners = self._direct[bit.bit_length() - 1]
                if alone_set.Match(data):
                    out.extend(owners)
            return out
        found = self._set.Match(data)
        return [self.owners[i] for i in found] if found else []


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
