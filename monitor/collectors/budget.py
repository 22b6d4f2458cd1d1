"""A per-cycle spending cap for platforms that bill per read (X)."""

from __future__ import annotations

import threading


class ReadBudget:
    """Thread-safe counter of billed reads: reserve before a call, refund what went unused."""

    def __init__(self, limit: int):
        self.limit = limit
        self.spent = 0
        self._reserved = 0
        self._cond = threading.Condition()

    def reserve(self, wanted: int, minimum: int = 1) -> int:
        """Grant up to ``wanted`` reads (at least ``minimum``), or 0 when the budget is spent.

        While other fetches hold reservations that may come back unused, wait for them
        rather than skip an account the budget could still cover.
        """
        with self._cond:
            while True:
                left = self.limit - self.spent - self._reserved
                if left >= minimum:
                    granted = min(wanted, left)
                    self._reserved += granted
                    return granted
                if self._reserved == 0:
                    return 0
                self._cond.wait(timeout=5.0)

    def settle(self, reserved: int, used: int) -> None:
        """Turn a reservation into spending: ``used`` reads are billed, the rest return."""
        with self._cond:
            self._reserved -= reserved
            self.spent += used
            self._cond.notify_all()

    @property
    def exhausted(self) -> bool:
        with self._cond:
            return self.spent + self._reserved >= self.limit


class BudgetSpent(Exception):
    """Raised by a collector when the cycle's read budget cannot cover another account."""
