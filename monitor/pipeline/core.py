"""The pipeline object that ``scan``, the demo and the daemon all share."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from monitor.domain import Finding, Flag, Post
from monitor.pipeline.decide import Decider
from monitor.pipeline.detector import Detector


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
        """Return one :class:`Flag` per post (``flag.flagged`` says whether it is actionable)."""
        per_post: list[list[Finding]] = [[] for _ in posts]
        for detector in self.detectors:
            results = detector.detect(posts)
            for i, found in enumerate(results):
                per_post[i].extend(found)
        return [self.decider.decide(p, f) for p, f in zip(posts, per_post, strict=True)]

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
