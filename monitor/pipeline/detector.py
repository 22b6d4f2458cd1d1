"""The one seam every detector (rules engine, classifier) plugs into."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from monitor.domain import Finding, Post


@runtime_checkable
class Detector(Protocol):
    """Finds policy conflicts in a batch of posts.

    Batches, not single posts, because the classifier vectorises many texts at once; a
    detector returns one list of findings per post, in order.
    """

    name: str

    def detect(self, posts: Sequence[Post]) -> list[list[Finding]]: ...
