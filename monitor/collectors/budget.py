"""A per-cycle spending cap for platforms that bill per read (X)."""

from __future__ import annotations

import threading


class ReadBudget:
    """Thread-safe counter of billed reads: reserve before a call, refund what went unused."""

    def __init__(self, limit: int):
        self.limit = limit
        self.spent = 0
        self._reserved = 0
        self._lock = threading.Lock()

    def reserve(self, wanted: int) -> int:
        """Grant up to ``wanted`` reads from what is left (0 when the budget is spent)."""
        with self._lock:
            left = self.limit - self.spent - self._reserved
            granted = max(0, min(wanted, left))
            self._reserved += granted
            return granted

    def settle(self, reserved: int, used: int) -> None:
        """Turn a reservation into spending: ``used`` reads are billed, the rest return."""
        with self._lock:
            self._reserved -= reserved
            self.spent += used

    @property
    def exhausted(self) -> bool:
        with self._lock:
            return self.spent + self._reserved >= self.limit


class BudgetSpent(Exception):
    """Raised by a collector when the cycle's read budget cannot cover another account."""
