"""YAML read safely: no aliases or anchors (no "billion laughs"), bounded nesting and size.

The event stream is checked before anything is built, so a hostile document costs one linear
pass of the parser (which keeps its own stack, not Python's) and never a deep recursion or an
exponential expansion. Rule files are small, hand-written documents; none needs either feature.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_DEPTH = 64
MAX_CHARS = 1_000_000


class UnsafeYamlError(ValueError):
    """A document uses a feature refused here; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)


class _Loader(yaml.SafeLoader):
    """The safe loader with flow nesting (``[[[[``) bounded while scanning.

    PyYAML's scanner keeps a possible key per open flow level and revisits them all at each
    token, so unbounded ``[`` nesting costs quadratic time before any event is seen.
    """

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        if self.flow_level >= MAX_DEPTH:
            raise UnsafeYamlError(f"nested deeper than {MAX_DEPTH} levels",
                                  self.get_mark().line + 1)
        super().fetch_flow_collection_start(TokenClass)


def _line(event: yaml.Event) -> int | None:
    mark = getattr(event, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def check_events(text: str) -> None:
    """Refuse aliases, anchors and nesting deeper than MAX_DEPTH (raises UnsafeYamlError)."""
    if len(text) > MAX_CHARS:
        raise UnsafeYamlError(f"document longer than {MAX_CHARS} characters")
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise UnsafeYamlError("aliases (*name) are not allowed", _line(event))
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            raise UnsafeYamlError("anchors (&name) are not allowed", _line(event))
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise UnsafeYamlError(f"nested deeper than {MAX_DEPTH} levels", _line(event))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def compose_and_load(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (for line numbers) and its plain Python value.

    Raises UnsafeYamlError for refused features and ``yaml.YAMLError`` for invalid YAML.
    """
    check_events(text)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, data
