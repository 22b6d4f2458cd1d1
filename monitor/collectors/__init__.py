"""Collectors: one module per platform behind the small :class:`Collector` protocol."""

from monitor.collectors.base import AccountRef, Collector, Cursor, FetchResult

__all__ = ["AccountRef", "Collector", "Cursor", "FetchResult"]
