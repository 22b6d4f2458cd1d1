"""Checking a draft before it is posted: private guidance, and nothing kept.

The same answer reaches Slack (``/socialguide check``, the Home tab's modal, the message
shortcut), the dashboard's *Check a draft* page and ``POST /api/v1/check``. A draft goes
through the one pipeline every other entry point uses; what comes back is only for the
person who asked. Nothing about the draft is written anywhere - not its text, its spans, who
asked, nor when beyond the week: the only trace is one increment per category in
``draft_check_counts`` (and the matching Prometheus counter, labelled by category alone).
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from monitor.config import Settings
from monitor.domain import Finding, Post
from monitor.errors import InputError, SocialGuideError
from monitor.guidance.batching import Batcher
from monitor.guidance.draft_counts import count
from monitor.guidance.rewording import Suggestion, suggest, window
from monitor.guidance.templates import CATEGORY_LABELS, training_link
from monitor.masking import mask_spans, mask_value
from monitor.pipeline.core import Pipeline
from monitor.store import Store

log = logging.getLogger(__name__)

NOTHING_FOUND = "Nothing in the policy stands against this draft."
PRIVACY_NOTE = ("Only you see this answer. socialguide keeps nothing of this draft - no text, "
                "no name - only a count per category per week.")

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_BINARY = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


class DraftError(InputError):
    """A draft that cannot be checked (empty, too long, binary); the message says which."""


class CheckFailed(SocialGuideError):
    """The pipeline raised on a draft; ``request_id`` is what the person and the log share."""

    def __init__(self, request_id: str):
        self.request_id = request_id
        super().__init__(f"the check failed (reference {request_id}); nothing was kept")


def clean_draft(text: str, max_chars: int) -> str:
    """The draft ready for the pipeline, or a DraftError naming what is wrong with it."""
    if not text.strip():
        raise DraftError("the draft is empty: paste or type the text you want to check")
    if len(text) > max_chars:
        raise DraftError(f"the draft is {len(text):,} characters long; the limit is "
                         f"{max_chars:,}")
    m = _BINARY.search(text)
    if m:
        raise DraftError(f"the draft contains binary data (control character "
                         f"U+{ord(m.group()):04X} at position {m.start()}); send plain text")
    # Lone surrogates are legal in JSON but not in UTF-8: replaced one-for-one, spans hold.
    return _LONE_SURROGATE.sub("\ufffd", text)


@dataclass(frozen=True, slots=True)
class Advice:
    """One actionable finding, explained for the person who wrote the draft."""

    finding: Finding
    label: str  # the category in plain words
    excerpt: str  # the first highlighted span (a credential masked)
    before: str  # a little context either side of it (credentials masked)
    after: str
    more_places: int  # further spans of the same finding
    policy_section: str | None
    guidance: str
    training_url: str
    suggestion: Suggestion | None

    def to_json(self) -> dict[str, Any]:
        """The finding as ``scan`` writes it, plus what a publishing tool shows its user."""
        return {
            **self.finding.to_contract(),
            "label": self.label,
            "policy_section": self.policy_section,
            "training_url": self.training_url,
            "excerpt": self.excerpt,
            "suggestion": self.suggestion.to_json() if self.suggestion else None,
        }


@dataclass(frozen=True, slots=True)
class CheckAnswer:
    """What a check says about one draft."""

    advice: list[Advice]
    policy_url: str
    platform: str = "unknown"
    categories: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return bool(self.advice)

    @property
    def summary(self) -> str:
        """One line (Slack's notification text, the page's heading)."""
        if not self.advice:
            return NOTHING_FOUND
        n = len(self.advice)
        return f"{n} thing{'s' if n != 1 else ''} worth a second look before you post."

    def to_json(self) -> dict[str, Any]:
        return {"flagged": self.flagged, "findings": [a.to_json() for a in self.advice],
                "message": self.summary, "policy_url": self.policy_url}


def advise(text: str, findings: list[Finding], settings: Settings,
           platform: str = "unknown") -> CheckAnswer:
    """Turn the pipeline's actionable findings on ``text`` into advice (shadow ones never)."""
    secret_spans = [(int(a), int(b)) for f in findings if f.category == "credentials"
                    for a, b in f.spans]
    shown = mask_spans(text, secret_spans)  # same length: every span still indexes it
    advice = []
    for f in sorted(findings, key=lambda f: (min((s[0] for s in f.spans), default=0),
                                             f.source)):
        spans = sorted((int(a), int(b)) for a, b in f.spans if 0 <= int(a) < int(b))
        if spans:
            a, b = spans[0]
            raw = text[a:b]
            excerpt = mask_value(raw) if f.category == "credentials" else shown[a:b]
            before, after = window(shown, a, b)
        else:
            excerpt, before, after = "", "", ""
        advice.append(Advice(
            finding=f, label=CATEGORY_LABELS.get(f.category, "something worth a second look"),
            excerpt=excerpt, before=before, after=after, more_places=max(0, len(spans) - 1),
            policy_section=f.policy_section, guidance=f.guidance or "It might be worth a "
            "second look.", training_url=training_link(settings, f.category),
            suggestion=suggest(text, shown, f, settings),
        ))
    cats: list[str] = []
    for f in findings:
        if f.category not in cats:
            cats.append(f.category)
    return CheckAnswer(advice, settings.policy.url, platform, cats)


class DraftChecker:
    """Runs drafts through the pipeline (see :class:`Batcher`) and counts their categories.

    The pipeline is built on first use (or by :meth:`warm_up_in_background` when a server
    starts), once: loading the rules and the model takes seconds.
    """

    def __init__(self, settings: Settings,
                 pipeline_factory: Callable[[Settings], Pipeline] | None = None):
        self.settings = settings
        self._factory = pipeline_factory
        self._pipeline: Pipeline | None = None
        self._build_lock = threading.Lock()
        self._batcher = Batcher(self.pipeline, settings.check.concurrency)

    @property
    def max_chars(self) -> int:
        return self.settings.check.max_chars

    def pipeline(self) -> Pipeline:
        """The pipeline, built once (by whichever caller comes first)."""
        with self._build_lock:
            if self._pipeline is None:
                if self._factory is None:
                    from monitor.pipeline.factory import build_pipeline

                    self._pipeline = build_pipeline(self.settings)
                else:
                    self._pipeline = self._factory(self.settings)
            return self._pipeline

    def warm_up_in_background(self) -> threading.Thread:
        """Build the pipeline on a thread so that the first check does not wait for it."""
        def run() -> None:
            try:
                self.pipeline()
            except Exception as exc:  # surfaces again, with its message, at the first check
                log.error("could not build the pipeline for draft checks: %s",
                          type(exc).__name__)

        t = threading.Thread(target=run, name="draft-check-warm-up", daemon=True)
        t.start()
        return t

    def check(self, text: str, platform: str | None = None, *, store: Store | None = None,
              request_id: str | None = None) -> CheckAnswer:
        """Check one draft; counts its categories in ``store`` when given.

        Raises DraftError for a draft that cannot be checked and CheckFailed (with the
        request id, logged without any text) when the pipeline raises.
        """
        draft = clean_draft(text, self.max_chars)
        platform = (platform or "unknown").strip().lower()[:32] or "unknown"
        rid = request_id or new_request_id()
        try:
            flag = self._batcher.analyse(Post(id="draft", text=draft, platform=platform))
        except Exception as exc:
            # The type only: an exception's message or traceback may quote the draft.
            log.error("draft check %s failed in the pipeline: %s", rid, type(exc).__name__)
            raise CheckFailed(rid) from None
        answer = advise(draft, list(flag.findings), self.settings, platform)
        count(store, answer.categories)
        return answer


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


_checkers: dict[int, tuple[Settings, DraftChecker]] = {}
_checkers_lock = threading.Lock()


def checker_for(settings: Settings) -> DraftChecker:
    """The process's checker for these settings (the web app, Slack and the CLI share it)."""
    with _checkers_lock:
        hit = _checkers.get(id(settings))
        if hit is None or hit[0] is not settings:
            hit = (settings, DraftChecker(settings))
            _checkers[id(settings)] = hit
        return hit[1]
