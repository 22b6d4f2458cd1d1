"""Collectors: one module per platform behind the small :class:`Collector` protocol."""

from monitor.collectors.base import Collector, FetchResult
from monitor.domain import AccountRef, Cursor

__all__ = ["AccountRef", "Collector", "Cursor", "FetchResult"]
