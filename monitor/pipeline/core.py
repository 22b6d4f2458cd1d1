"""The pipeline object that ``scan``, the demo and the daemon all share."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from monitor.domain import Finding, Flag, Post
from monitor.errors import SocialGuideError
from monitor.pipeline.decide import Decider
from monitor.pipeline.detector import Detector

log = logging.getLogger(__name__)


class AnalysisFailed(SocialGuideError):
    """A post could not be analysed (raised by callers that need one answer, e.g. a draft)."""


@dataclass
class Pipeline:
    """Runs every detector over a batch of posts, then lets the decider turn findings into flags.

    There is exactly one way to analyse a post; every entry point builds it with
    :func:`monitor.pipeline.factory.build_pipeline`.
    """

    detectors: list[Detector]
    decider: Decider = field(default_factory=Decider)
    batch_size: int = 512

    def analyse(self, posts: Sequence[Post]) -> list[Flag]:
        """Return one :class:`Flag` per post (``flag.flagged`` says whether it is actionable).

        Never raises for a post: when a batch fails, its posts are analysed one by one, and a
        post that fails alone gets a flag whose ``error`` names the post and the failure, so
        one bad post costs its own result, not the batch's.
        """
        try:
            return self._analyse(posts)
        except Exception as exc:
            if len(posts) == 1:
                return [_failed(posts[0], exc)]
        out: list[Flag] = []
        for post in posts:
            try:
                out.extend(self._analyse([post]))
            except Exception as exc:
                out.append(_failed(post, exc))
        return out

    def _analyse(self, posts: Sequence[Post]) -> list[Flag]:
        per_post: list[list[Finding]] = [[] for _ in posts]
        for detector in self.detectors:
            if getattr(detector, "reviews", False):
                # A reviewing stage sees what came before and returns the posts' findings as
                # it judges them (the policy model confirms or vetoes rule matches).
                per_post = detector.review(posts, per_post)  # type: ignore[attr-defined]
                continue
            results = detector.detect(posts)
            for i, found in enumerate(results):
                per_post[i].extend(found)
        per_post = [self._own_contact_veto(p, f) for p, f in zip(posts, per_post, strict=True)]
        return [self.decider.decide(p, f) for p, f in zip(posts, per_post, strict=True)]

    def _own_contact_veto(self, post: Post, findings: list[Finding]) -> list[Finding]:
        """A model's pii finding on a post whose only personal data is the poster's own
        contact details ("text me on …") goes to the shadow log: offering one's own is not pii.

        The rules stage decides whose each contact is (from the grammar around it); the veto
        applies only when the rules saw contact details, all the poster's own, and nothing
        else pii-like, so a model finding on a home address or an ID the rules missed stands.
        """
        guesses = [i for i, f in enumerate(findings)
                   if f.category == "pii" and f.source.startswith("model:") and not f.shadow]
        if not guesses:
            return findings
        judges = [d for d in self.detectors if hasattr(d, "only_own_contacts")]
        if not judges or not all(d.only_own_contacts(post.text or "")  # type: ignore[attr-defined]
                                 for d in judges):
            return findings
        out = list(findings)
        for i in guesses:
            f = out[i]
            out[i] = replace(f, shadow=True, explanation=[
                *f.explanation, "vetoed: the only contact details are the poster's own"])
        return out

    @property
    def has_model(self) -> bool:
        """Whether a reviewing model stage is part of this pipeline."""
        return any(getattr(d, "reviews", False) for d in self.detectors)

    def model_scores(self, posts: Sequence[Post]) -> list[dict[str, float]]:
        """The model's probability per head for each post, given what the rules found
        (``explain`` shows them; the decision itself runs in :meth:`analyse`)."""
        prior: list[list[Finding]] = [[] for _ in posts]
        for detector in self.detectors:
            if getattr(detector, "reviews", False):
                return detector.probabilities(posts, prior)  # type: ignore[attr-defined]
            for i, found in enumerate(detector.detect(posts)):
                prior[i].extend(found)
        return [{} for _ in posts]

    def analyse_stream(self, posts: Iterable[Post]) -> Iterator[Flag]:
        """Analyse an unbounded stream in batches so memory stays flat."""
        batch: list[Post] = []
        for post in posts:
            batch.append(post)
            if len(batch) >= self.batch_size:
                yield from self.analyse(batch)
                batch = []
        if batch:
            yield from self.analyse(batch)


def _failed(post: Post, exc: Exception) -> Flag:
    """The flag of a post that could not be analysed; the message never quotes its text."""
    kind = type(exc).__name__
    shown = post.id if post.id.isprintable() else ascii(post.id)  # the message stays one line
    log.warning("post %s could not be analysed (%s)", shown, kind)
    return Flag(post, [], error=f"post {shown}: analysis failed ({kind})")
