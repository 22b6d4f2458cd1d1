"""Rules stage throughput and quality, beside detect-secrets and presidio's pattern recognizers.

Prints posts/s for the whole rules stage on one core (target >= 15,000 tweet-sized posts/s),
the same for detect-secrets (credential plugins) and presidio-analyzer's pattern recognizers
(e-mail, phone, card, SSN, IBAN; no NLP model) over the same synthetic posts, the ratios, and
quality figures: credential hits and false flags on hard negatives, PII recall on the
presidio synthetic dev sentences, and recall and false flags on the team's held-back set
(data/secrets-heldout/) for the rules, detect-secrets and presidio alike.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections import Counter
from pathlib import Path

from bench.samples import (
    bench_posts,
    credential_hard_negatives,
    credential_positive_posts,
)
from monitor.domain import Post
from monitor.pipeline.rules import (
    EXAMPLE_POLICY,
    RuleEngine,
    RulesDetector,
    load_rules,
    policy_terms,
)
from monitor.resources import rules_dir

N_POSTS = int(os.environ.get("BENCH_RULES_POSTS", "30000"))
PII_DATA = Path(__file__).resolve().parent.parent / "data/presidio-synth-pii-dev/generated_large.dedup.json"
PII_TYPES = {"EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone", "CREDIT_CARD": "card",
             "US_SSN": "ssn", "IBAN_CODE": "iban"}
PII_RULES = {"email": {"pii.email"}, "phone": {"pii.phone-number", "pii.phone-number-context"},
             "card": {"pii.card-number"}, "ssn": {"pii.us-ssn", "pii.us-ssn-context"},
             "iban": {"pii.iban"}}


def _rate(fn, texts: list[str]) -> float:
    start = time.perf_counter()
    fn(texts)
    return len(texts) / (time.perf_counter() - start)


def _detect_secrets():
    """detect-secrets' credential plugins (every plugin except public IP addresses), scanning
    each post as a file would be scanned: default entropy limits and heuristic filters.

    (``scan_line`` is its ad-hoc mode, which reports every string without limits: it would
    flag nearly every post and is not what a repository scan does.)
    """
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.core.scan import _process_line_based_plugins, get_filters
    from detect_secrets.settings import get_settings, transient_settings

    names = sorted(c.__name__ for c in get_mapping_from_secret_type_to_class().values()
                   if c.__name__ != "IPPublicDetector")

    def run(texts: list[str]) -> list[bool]:
        with transient_settings({"plugins_used": [{"name": n} for n in names]}):
            # Posts are not files on disk; the "file exists" filter would drop everything.
            get_settings().disable_filters("detect_secrets.filters.common.is_invalid_file")
            get_filters.cache_clear()
            return [any(True for _ in _process_line_based_plugins(
                list(enumerate(t.splitlines() or [t], 1)), "post.txt")) for t in texts]

    return run


def _presidio():
    """presidio-analyzer's pattern recognizers for the five PII types, without an NLP engine."""
    import tldextract
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        PhoneRecognizer,
        UsSsnRecognizer,
    )
    from presidio_analyzer.predefined_recognizers.generic import email_recognizer

    # The e-mail recognizer would fetch the public suffix list; use the bundled snapshot.
    email_recognizer.tldextract = type("T", (), {"extract": staticmethod(
        tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None))})
    recognizers = [R() for R in (EmailRecognizer, PhoneRecognizer, CreditCardRecognizer,
                                 UsSsnRecognizer, IbanRecognizer)]

    def run(texts: list[str]) -> list[list]:
        out = []
        for t in texts:
            found = []
            for r in recognizers:
                found.extend(r.analyze(t, r.supported_entities, None) or [])
            out.append(found)
        return out

    return run


# The generator labels the writer's own details too ("… on my e-mail X", "my IBAN is X", "a
# problem I have with sending a wire transfer using this IBAN X"); the policy counts only
# someone else's data as pii, so those spans are left out and their posts are negatives.
OWN_OFFER = re.compile(r"\b(?:my e-?mail:?|my iban is|i have with sending a wire transfer using "
                       r"this iban)\s*$", re.IGNORECASE)


def _pii_quality(engine: RuleEngine) -> tuple[dict[str, tuple[int, int]], int, int]:
    records = json.loads(PII_DATA.read_text(encoding="utf-8"))
    tot: Counter[str] = Counter()
    hit: Counter[str] = Counter()
    false_flags = negatives = 0
    watched = set().union(*PII_RULES.values())
    for rec in records:
        text = rec["full_text"]
        fs = [f for f in engine.analyse(text).findings
              if f.score >= 0.5 and f.source.removeprefix("rule:") in watched]
        spans = [s for s in rec["spans"] if s["entity_type"] in PII_TYPES
                 and not OWN_OFFER.search(text[:s["start_position"]])]
        for s in spans:
            kind = PII_TYPES[s["entity_type"]]
            tot[kind] += 1
            hit[kind] += any(
                f.source.removeprefix("rule:") in PII_RULES[kind]
                and any(a < s["end_position"] and b > s["start_position"] for a, b in f.spans)
                for f in fs
            )
        if not spans:
            negatives += 1
            false_flags += bool(fs)
    return {k: (hit[k], tot[k]) for k in tot}, false_flags, negatives


def main() -> None:
    print("== rules stage ==")
    start = time.perf_counter()
    engine = RuleEngine(load_rules([rules_dir()]), policy_terms(EXAMPLE_POLICY))
    print(f"compile: {len(engine.rule_ids())} rules in {time.perf_counter() - start:.2f} s")
    texts = bench_posts(N_POSTS)
    posts = [Post(id=str(i), text=t) for i, t in enumerate(texts)]
    detector = RulesDetector(engine)
    detector.detect(posts[:500])  # warm up
    start = time.perf_counter()
    results = detector.detect(posts)
    rules_rate = len(posts) / (time.perf_counter() - start)
    flagged = sum(1 for r in results if r)
    mean_len = sum(map(len, texts)) / len(texts)
    print(f"posts: {len(posts)} synthetic (mean {mean_len:.0f} chars), {flagged} with findings")
    print(f"rules stage: {rules_rate:,.0f} posts/s (target >= 15,000)")

    ds = _detect_secrets()
    sample = texts[: min(len(texts), 5000)]
    ds_rate = _rate(ds, sample)
    print(f"detect-secrets (credential plugins): {ds_rate:,.0f} posts/s; "
          f"rules stage is {rules_rate / ds_rate:.1f}x faster")
    pr = _presidio()
    pr_rate = _rate(pr, sample)
    print(f"presidio pattern recognizers (5 PII types): {pr_rate:,.0f} posts/s; "
          f"rules stage is {rules_rate / pr_rate:.1f}x faster")

    print("== credentials quality ==")
    rng = random.Random(3)
    pos = credential_positive_posts(rng)
    neg = credential_hard_negatives(rng)

    def ours(t: str) -> bool:
        return any(f.category == "credentials" and f.score >= 0.5
                   for f in engine.analyse(t).findings)

    caught = sum(ours(t) for _, t in pos)
    ours_ff = sum(ours(t) for _, t in neg)
    ds_pos = sum(ds([t for _, t in pos]))
    ds_ff = sum(ds([t for _, t in neg]))
    print(f"real-format keys caught: rules {caught}/{len(pos)}, detect-secrets {ds_pos}/{len(pos)}")
    print(f"hard negatives flagged: rules {ours_ff}/{len(neg)} ({ours_ff / len(neg):.1%}), "
          f"detect-secrets {ds_ff}/{len(neg)} ({ds_ff / len(neg):.1%})")

    print("== PII quality (presidio synthetic dev sentences) ==")
    per_type, ff, negatives = _pii_quality(engine)
    for kind, (h, t) in sorted(per_type.items()):
        print(f"recall {kind}: {h}/{t} = {h / t:.3f}")
    print(f"false flags on sentences without these types: {ff}/{negatives}")

    print("== held-back set (data/secrets-heldout, both rounds) ==")
    from bench.eval_heldout import _rows, evaluate, heldout_engine

    held = heldout_engine()
    for batch in ("", "round2_"):
        for category in ("credentials", "pii"):
            fig = evaluate(held, category, batch)
            print(f"rules {fig.category}: recall {fig.caught}/{fig.positives} = {fig.recall:.3f}, "
                  f"negatives flagged {fig.false_flags}/{fig.negatives} = "
                  f"{fig.false_flag_rate:.2%}")
        pos = [r["text"] for r in _rows(f"{batch}credentials_positive")]
        neg = [r["text"] for r in _rows(f"{batch}credentials_hard_negative")]
        hit, ffl = sum(ds(pos)), sum(ds(neg))
        print(f"detect-secrets {batch}credentials: recall {hit}/{len(pos)} = {hit / len(pos):.3f}, "
              f"hard negatives flagged {ffl}/{len(neg)} = {ffl / len(neg):.2%}")
        ppos = [r["text"] for r in _rows(f"{batch}pii_positive")]
        pneg = [r["text"] for r in _rows(f"{batch}pii_negative")]
        hit = sum(bool(x) for x in pr(ppos))
        ffl = sum(bool(x) for x in pr(pneg))
        print(f"presidio patterns {batch}pii: recall {hit}/{len(ppos)} = {hit / len(ppos):.3f}, "
              f"negatives flagged {ffl}/{len(pneg)} = {ffl / len(pneg):.2%}")


if __name__ == "__main__":
    main()
