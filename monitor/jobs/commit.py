"""Store writes of a cycle: one transaction each, retried while the database is away."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from monitor.errors import StoreError
from monitor.jobs.report import CycleReport, merge
from monitor.store import Session, Store
from monitor.store.db import is_transient

log = logging.getLogger(__name__)

# A write the database refused for a passing reason (locked, connection lost) is tried this
# often, waiting STORE_RETRY_SECONDS times the attempt number in between.
STORE_ATTEMPTS = 3
STORE_RETRY_SECONDS = 1.0


def commit(store: Store, work: Callable[[Session, CycleReport], None], report: CycleReport,
           *, what: str) -> None:
    """Run ``work`` in one transaction; retry it while the database is momentarily unavailable.

    ``work`` reports into a scratch report that joins ``report`` only once committed, so a
    retried or failed transaction never counts twice. After the last attempt a
    :class:`StoreError` ends the platform's cycle: nothing of the batch was stored, the
    cursors did not move, and the next cycle collects it again.
    """
    for attempt in range(1, STORE_ATTEMPTS + 1):
        scratch = CycleReport()
        try:
            with store.session() as s:
                work(s, scratch)
        except Exception as exc:
            if not is_transient(exc):
                raise
            reason = first_line(exc)
            if attempt == STORE_ATTEMPTS:
                raise StoreError(f"could not write {what} to {store.redacted_url} after "
                                 f"{attempt} attempts: {reason}") from exc
            log.warning("store unavailable while writing %s (attempt %s of %s): %s; retrying",
                        what, attempt, STORE_ATTEMPTS, reason)
            time.sleep(STORE_RETRY_SECONDS * attempt)
            continue
        merge(report, scratch)
        return


def first_line(exc: BaseException) -> str:
    """The database's own message, one line, for logs that must stay short."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__
