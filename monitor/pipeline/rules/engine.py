"""The rules stage: every rule file compiled once, then one cheap pass per post.

A post is normalised into two views (see :mod:`normalise`); two RE2 sets tell in one linear pass
which rules could match at all; only those rules' regexes run, and spaCy tokenises the post only
when a phrase or token pattern could match. Spans are mapped back to the original text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor.domain import Finding, Post
from monitor.masking import DEFAULT_FINGERPRINT_KEY, mask_value, secret_fingerprint
from monitor.pipeline.rules.loader import LoadedRule
from monitor.pipeline.rules.matchers import (
    LexicalMatchers,
    PrefilterSet,
    compile_regex,
    compile_words,
    literal_alternation,
    token_anchors,
)
from monitor.pipeline.rules.normalise import (
    LEET_TRIGGER,
    SPACED_TRIGGER,
    SPLIT_TRIGGER,
    View,
    clean_view,
    fold_view,
    joined_view,
    views,
)
from monitor.pipeline.rules.not_real import REDUCE_BY as NOT_REAL_REDUCE_BY
from monitor.pipeline.rules.not_real import says_not_real
from monitor.pipeline.rules.own_contact import is_own
from monitor.pipeline.rules.validators import VALIDATORS, decode_base64_text

# Most spans one rule reports for one post; a 1 MB post of repeated keys stays bounded.
MAX_SPANS_PER_RULE = 100
_LEXICAL = -1  # pre-filter owner tag: "run spaCy"
_SUPPRESS = -2  # pre-filter owner tag: "a suppressor could match"
_FOLDED = 1 << 20  # combined pre-filter owners at or above this are folded-view rules
_LEET = -3  # pre-filter owner tag: "the text may contain leetspeak"
_SPACED = -4  # pre-filter owner tag: "the text may contain spaced-apart letters"
_SPLIT = -5  # pre-filter owner tag: "a token may be split by spaces or line breaks"
# Rules whose value follows a name (`KEY=value`) are kept off the joined view: joining the lines
# of an empty `.env.example` would read the next line's name as the value.
_GENERIC_VALIDATORS = frozenset({"generic_secret", "password", "secret", "basic_auth", "entropy",
                                 "config_secret"})
OWN_CONTACT_REASON = "the poster's own contact detail (score 0)"
# Most base64 runs one post has decoded and scanned; bounds the work on a 1 MB post.
MAX_DECODES = 8
MAX_DECODE_CHARS = 8192


@dataclass(slots=True)
class Hit:
    """One match of one rule, in original-text offsets, with its score and reasons."""

    start: int
    end: int
    score: float
    why: list[str]


@dataclass(slots=True)
class Compiled:
    """A rule ready to run."""

    lr: LoadedRule
    regexes: list[Any] = field(default_factory=list)
    value_group: list[int] = field(default_factory=list)
    boost: Any | None = None
    reduce: Any | None = None
    allow: tuple[str, ...] = ()
    lexical: bool = False
    # Normalised config entries (published contacts) that are never findings of this rule.
    allow_exact: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.lr.rule.id


@dataclass(slots=True)
class Analysis:
    """Everything the rules saw in one text: what to report, what a suppressor removed, and why."""

    findings: list[Finding]
    suppressed: list[Finding]
    suppressors: list[Finding]
    # Contact details (original-text spans) that rules with ``own_contact`` matched and left
    # out because the grammar around them shows they are the poster's own.
    own_contacts: list[tuple[int, int]] = field(default_factory=list)


class RuleEngine:
    """Compiles loaded rules with the organisation's terms; analyses texts."""

    def __init__(
        self,
        rules: Sequence[LoadedRule],
        terms: Mapping[str, Sequence[str]] | None = None,
        disabled: Sequence[str] = (),
        fingerprint_key: bytes = DEFAULT_FINGERPRINT_KEY,
    ) -> None:
        terms = terms or {}
        self.fingerprint_key = fingerprint_key
        self._decoders: list[int] = []
        off = set(disabled)
        self.rules: list[Compiled] = []
        self.loaded = list(rules)
        # One set over everything, run on the clean view; when the clean view needs no folding
        # (most posts) its answer stands for the folded view too, so one pass suffices.
        self._combined = PrefilterSet()
        self._folded = PrefilterSet()
        self._lex = LexicalMatchers()
        self._always_lexical = False
        lexical_literals: list[str] = []
        suppress_literals: list[str] = []
        self._suppressible: set[str] = set()
        for lr in rules:
            rule = lr.rule
            if not rule.active or rule.id in off:
                continue
            idx = len(self.rules)
            c = Compiled(lr)
            m = rule.match
            # Suppressors only matter once something they suppress was found, so their words
            # do not make every post about "hours" or "pay" go through the tokenizer.
            literals = suppress_literals if rule.action == "suppress" else lexical_literals
            if rule.action == "suppress":
                self._suppressible.update(rule.suppresses)
            for i, regex in enumerate(m.regex):
                rx = compile_regex(regex, lr, i)
                c.regexes.append(rx)
                c.value_group.append(int((rx.groupindex or {}).get("value", 0)))
                if m.view == "clean":
                    self._combined.add(regex, idx)
                else:
                    self._combined.add(regex, idx + _FOLDED)
                    self._folded.add(regex, idx)
            for name in m.terms_from:
                words = [t for t in terms.get(name, ()) if t.strip()]
                if words:
                    self._lex.add_phrases(f"{rule.id}|{name}", idx, f"organisation term ({name})",
                                          words)
                    literals.extend(views(w)[1].text for w in words)
                    c.lexical = True
            if m.phrases:
                self._lex.add_phrases(f"{rule.id}|phrases", idx, "phrase", list(m.phrases))
                literals.extend(views(p)[1].text for p in m.phrases)
                c.lexical = True
            for k, pattern in enumerate(m.tokens):
                self._lex.add_tokens(f"{rule.id}|tokens{k}", idx, f"token pattern {k + 1}",
                                     pattern, lr, k)
                anchors = token_anchors(pattern)
                if anchors is None:
                    self._always_lexical = True
                else:
                    literals.extend(anchors)
                c.lexical = True
            # Context is searched with "_" read as a space (see _accept), so are its words.
            c.boost = compile_words(w.replace("_", " ") for w in rule.context.boost)
            c.reduce = compile_words(w.replace("_", " ") for w in rule.context.reduce)
            c.allow = tuple(a.lower() for a in rule.allow if a)
            if m.view == "folded":
                # A folded-view match reads "ssh-ed25519" as "ssh-ed2ssi9": fold the list too.
                c.allow = tuple(dict.fromkeys(
                    (*c.allow, *(views(a)[1].text.lower() for a in rule.allow if a))))
            c.allow_exact = tuple(n for name in m.allow_from for t in terms.get(name, ())
                                  if len(n := _contact_key(t)) >= 5)
            if m.decode is not None:
                self._decoders.append(idx)
            self.rules.append(c)
        for owner, lits in ((_LEXICAL, lexical_literals), (_SUPPRESS, suppress_literals)):
            alternation = literal_alternation(lits)
            if alternation:
                self._folded.add(alternation, owner)
                self._combined.add(alternation, owner)
        self._combined.add(LEET_TRIGGER, _LEET)
        self._combined.add(SPACED_TRIGGER, _SPACED)
        self._combined.add(SPLIT_TRIGGER, _SPLIT)
        # Rules that may also run on the joined view: credential formats matched on the clean
        # view. Not the generic ones (a name, then any random-looking value), which would
        # read two neighbouring words as one value.
        self._joinable = [i for i, c in enumerate(self.rules)
                          if c.lr.rule.category == "credentials" and c.lr.rule.match.view == "clean"
                          and c.regexes and c.lr.rule.match.decode is None
                          and c.lr.rule.match.validator not in _GENERIC_VALIDATORS]
        self._combined.compile()
        self._folded.compile()

    # -- matching -----------------------------------------------------------------------

    def _hits(self, text: str, depth: int = 0) -> dict[int, list[Hit]]:
        clean = clean_view(text)
        found: dict[int, list[Hit]] = {}
        combined = self._combined.hits(clean.text)
        regex_rules = {h for h in combined if 0 <= h < _FOLDED}
        if depth:
            # Inside decoded text only the credential rules run, and nothing is decoded again.
            regex_rules = {h for h in regex_rules if self.rules[h].lr.rule.category == "credentials"
                           and self.rules[h].lr.rule.match.decode is None}
            for idx in sorted(regex_rules):
                self._regex_hits(idx, clean, found)
            return {k: v for k, v in found.items() if v}
        if _LEET in combined or _SPACED in combined:
            folded = fold_view(clean, _LEET in combined, _SPACED in combined)
            folded_hits = set(self._folded.hits(folded.text))
        else:
            folded = clean
            folded_hits = {h - _FOLDED if h >= _FOLDED else h for h in combined
                           if h >= _FOLDED or h in (_LEXICAL, _SUPPRESS)}
        run_lexical = self._always_lexical or _LEXICAL in folded_hits
        maybe_suppress = _SUPPRESS in folded_hits
        folded_hits.discard(_LEXICAL)
        folded_hits.discard(_SUPPRESS)
        for idx in sorted(regex_rules):
            if idx in self._decoders:
                self._decode_hits(idx, clean, found)
            else:
                self._regex_hits(idx, clean, found)
        for idx in sorted(folded_hits):
            self._regex_hits(idx, folded, found)
        if _SPLIT in combined:
            self._joined_hits(clean, found)
        if not run_lexical and maybe_suppress:
            run_lexical = any(
                hits and self.rules[i].lr.rule.category in self._suppressible
                for i, hits in found.items()
            )
        if run_lexical and self._lex.size:
            for idx, label, s, e in self._lex.run(folded.text):
                c = self.rules[idx]
                o_s, o_e = folded.to_original(s, e)
                why = [f"{label} '{text[o_s:o_e]}'"]
                self._accept(c, folded, s, e, folded.text[s:e], why, found.setdefault(idx, []))
        return {k: v for k, v in found.items() if v}

    def _regex_hits(self, idx: int, view: View, found: dict[int, list[Hit]],
                    gaps: list[int] | None = None) -> None:
        c = self.rules[idx]
        out = found.setdefault(idx, [])
        if (c.lr.rule.context.require and c.boost is not None
                and not c.boost.search(view.text.replace("_", " "))):
            # A rule that needs a context word nearby cannot match a post that has none at
            # all: one search instead of validating every number in a post about numbers.
            return
        for i, rx in enumerate(c.regexes):
            for m in rx.finditer(view.text):
                if len(out) >= MAX_SPANS_PER_RULE:
                    return
                s, e = m.span(c.value_group[i])
                if s < 0:
                    s, e = m.span()
                if gaps is not None and not any(s < g < e for g in gaps):
                    continue  # the clean view already saw this match
                why = [f"pattern match.regex[{i}]"]
                if gaps is not None:
                    why.append("joined across spaces or line breaks")
                self._accept(c, view, m.start(), m.end(), view.text[s:e], why, out, (s, e))

    def _joined_hits(self, clean: View, found: dict[int, list[Hit]]) -> None:
        """Credential rules over the text with token fragments joined (``AKIA UJZD E8GX…``)."""
        joined, gaps = joined_view(clean)
        if not gaps:
            return
        hits = set(self._combined.hits(joined.text))
        for idx in self._joinable:
            if idx in hits:
                self._regex_hits(idx, joined, found, gaps)

    def _decode_hits(self, idx: int, view: View, found: dict[int, list[Hit]]) -> None:
        """Base64 runs decoded and scanned by the credential rules; a hit flags the run."""
        c = self.rules[idx]
        out = found.setdefault(idx, [])
        done = 0
        for i, rx in enumerate(c.regexes):
            for m in rx.finditer(view.text):
                if done >= MAX_DECODES or len(out) >= MAX_SPANS_PER_RULE:
                    return
                s, e = m.span(c.value_group[i])
                if s < 0:
                    s, e = m.span()
                if e - s > MAX_DECODE_CHARS:
                    continue
                decoded = decode_base64_text(view.text[s:e])
                if decoded is None:
                    continue
                done += 1
                inner = self._hits(decoded, depth=1)
                best = max((h.score for hs in inner.values() for h in hs), default=0.0)
                if best < 0.5:
                    continue
                names = sorted({self.rules[j].id for j in inner})
                why = [f"pattern match.regex[{i}]", f"decodes to a credential ({', '.join(names)})"]
                self._accept(c, view, m.start(), m.end(), view.text[s:e], why, out, (s, e))

    def _accept(self, c: Compiled, view: View, start: int, end: int, value: str,
                why: list[str], out: list[Hit], span: tuple[int, int] | None = None) -> None:
        """Apply allow list, validator and context to one raw match; keep it if it survives.

        ``start``/``end`` are the whole match (context is looked for around it); ``span`` is
        the part reported and masked (the ``value`` group when the regex has one).
        """
        if len(out) >= MAX_SPANS_PER_RULE or end <= start:
            return
        rule = c.lr.rule
        low = value.lower()
        for a in c.allow:
            if a in low:
                return
        if c.allow_exact:
            key = _contact_key(value)
            if key and any(key in a or a in key for a in c.allow_exact):
                return
        v = rule.match.validator
        if v is not None:
            if not VALIDATORS[v](value, rule.match.min_entropy):
                return
            why.append(f"validator {v} passed")
        score = rule.score
        chk = rule.match.checksum
        if chk is not None:
            if VALIDATORS[chk](value, rule.match.min_entropy):
                why.append(f"checksum {chk} valid")
            else:
                score -= rule.match.checksum_penalty
                why.append(f"checksum {chk} does not match (-{rule.match.checksum_penalty:g})")
        ctx = rule.context
        if c.boost is not None or c.reduce is not None:
            lo, hi = _window(view.text, start, end, ctx.window)
            # "_" reads as a space, so a variable (PAGERDUTY_ROUTING_KEY) names its provider.
            around = (view.text[lo:start] + " \x00 " + view.text[end:hi]).replace("_", " ")
            if c.boost is not None:
                m = c.boost.search(around)
                if m:
                    score = min(1.0, score + ctx.boost_by)
                    why.append(f"context '{m.group(0)}' nearby (+{ctx.boost_by:g})")
                elif ctx.require:
                    # A required word inside the match itself (the name of an assignment)
                    # satisfies the requirement, without the boost.
                    m = c.boost.search(view.text[start:end].replace("_", " "))
                    if not m:
                        return
                    why.append(f"context '{m.group(0)}' in the match")
            if c.reduce is not None:
                m = c.reduce.search(around)
                if m:
                    score = max(0.0, score - ctx.reduce_by)
                    why.append(f"context '{m.group(0)}' nearby (-{ctx.reduce_by:g})")
        word = says_not_real(rule.category, view.text, start, end)
        if word is not None:
            score = max(0.0, score - NOT_REAL_REDUCE_BY)
            why.append(f"'{word}' says the value is not real (-{NOT_REAL_REDUCE_BY:g})")
        s, e = view.to_original(*(span or (start, end)))
        out.append(Hit(s, e, round(score, 4), why))

    # -- results ------------------------------------------------------------------------

    def _finding(self, c: Compiled, hits: list[Hit], text: str) -> Finding:
        rule = c.lr.rule
        spans: list[tuple[int, int]] = []
        for h in sorted(hits, key=lambda h: (h.start, h.end)):
            if spans and h.start < spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], h.end))
            else:
                spans.append((h.start, h.end))
        why: list[str] = []
        for h in hits:
            for w in h.why:
                if w not in why:
                    why.append(w)
        masked = fingerprint = None
        if rule.category == "credentials":
            values = [text[a:b] for a, b in spans]
            masked = " … ".join(mask_value(v) for v in values)
            fingerprint = secret_fingerprint("\x00".join(values), self.fingerprint_key)
        return Finding(
            masked=masked,
            fingerprint=fingerprint,
            category=rule.category,
            source=f"rule:{rule.id}",
            severity=rule.severity,
            score=max(h.score for h in hits),
            spans=spans,
            guidance=rule.guidance.strip(),
            policy_section=rule.policy_section,
            shadow=rule.shadow,
            explanation=why[:12],
            version=c.lr.version,
        )

    def analyse(self, text: str, *, every_rule: bool = False) -> Analysis:
        """All rules over one text; suppressor rules remove the categories they protect.

        Two rules of one category on the same spans report once, unless ``every_rule`` asks
        for each rule's own result (as ``rules test`` does).
        """
        own: list[tuple[int, int]] = []
        hits: dict[int, list[Hit]] = {}
        for idx, found in self._hits(text).items():
            if self.rules[idx].lr.rule.context.own_contact:
                # Read on the original text: accents and apostrophes carry the grammar.
                mine = [h for h in found if is_own(text, h.start, h.end)]
                own.extend((h.start, h.end) for h in mine)
                others = [h for h in found if h not in mine]
                # Only the poster's own details: kept for the shadow log at score 0, never
                # actionable; beside someone else's they are left out of the finding.
                found = others or [Hit(h.start, h.end, 0.0, [*h.why, OWN_CONTACT_REASON])
                                   for h in mine]
            if found:
                hits[idx] = found
        own = sorted(set(own))
        if not hits:
            return Analysis([], [], [], own)
        findings: list[Finding] = []
        suppressors: list[Finding] = []
        protected: set[str] = set()
        for idx in sorted(hits):
            c = self.rules[idx]
            f = self._finding(c, hits[idx], text)
            if c.lr.rule.action == "suppress":
                suppressors.append(f)
                protected.update(c.lr.rule.suppresses)
            else:
                findings.append(f)
        if not every_rule:
            findings = _one_per_span(findings)
        kept = [f for f in findings if f.category not in protected]
        gone = [f for f in findings if f.category in protected]
        return Analysis(kept, gone, suppressors, own)

    def rule_ids(self) -> list[str]:
        return [c.id for c in self.rules]


def _window(text: str, start: int, end: int, size: int) -> tuple[int, int]:
    """``size`` characters either side of a match, widened (a little) to whole words."""
    lo = max(0, start - size)
    hi = min(len(text), end + size)
    stop = max(0, lo - 20)
    while lo > stop and text[lo - 1].isalnum():
        lo -= 1
    stop = min(len(text), hi + 20)
    while hi < stop and text[hi].isalnum():
        hi += 1
    return lo, hi


def _contact_key(value: str) -> str:
    """How a contact is compared with the published list: letters and digits, lower case.

    A phone number keeps only its digits after any country code prefix characters, so
    ``+1 (415) 555-0100`` and ``415.555.0100`` compare equal by containment.
    """
    v = value.strip().lower()
    if "@" in v or any(ch.isalpha() for ch in v):
        return "".join(ch for ch in v if ch.isalnum() or ch == "@")
    return "".join(ch for ch in v if ch.isdigit())


def _one_per_span(findings: list[Finding]) -> list[Finding]:
    """Two rules of one category on exactly the same spans report once (the higher score)."""
    best: dict[tuple[str, tuple[tuple[int, int], ...]], Finding] = {}
    for f in findings:
        key = (f.category, tuple(f.spans))
        have = best.get(key)
        if have is None or f.score > have.score:
            best[key] = f
    keep = {id(f) for f in best.values()}
    return [f for f in findings if id(f) in keep]


class RulesDetector:
    """The rules stage as a pipeline :class:`~monitor.pipeline.detector.Detector`."""

    name = "rules"

    def __init__(self, engine: RuleEngine) -> None:
        self.engine = engine

    def detect(self, posts: Sequence[Post]) -> list[list[Finding]]:
        analyse = self.engine.analyse
        return [analyse(p.text or "").findings for p in posts]

    def only_own_contacts(self, text: str) -> bool:
        """Whether the text offers contact details, all of them the poster's own, and no other
        personal data (the pipeline then vetoes the policy model's pii guess)."""
        a = self.engine.analyse(text)
        return bool(a.own_contacts) and not any(
            f.category == "pii" and f.score > 0 for f in a.findings)
