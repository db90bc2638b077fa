"""The progress callback that long-running calls accept.

`progress(done, total)` is called with how many items are finished so far and the total
when it is known in advance (`None` for a stream). Calls come at most every `every`
items and once at the end; a callback must not raise (an exception propagates and
stops the call, as with any user function). Pure layers only call it: they never print.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

__all__ = ["Progress", "ProgressTicker"]

Progress: TypeAlias = Callable[[int, "int | None"], None]
"""`progress(done, total)`: items finished so far, and the total or `None` when unknown."""


class ProgressTicker:
    """Counts items and calls a `Progress` callback every `every` items and at `close()`.

    A `None` callback makes every method a no-op, so callers need no branches.
    """

    __slots__ = ("_callback", "_done", "_every", "_next", "_total")

    def __init__(
        self, callback: Progress | None, total: int | None = None, *, every: int = 1000
    ) -> None:
        self._callback = callback
        self._total = total
        self._every = max(1, every)
        self._done = 0
        self._next = self._every

    def advance(self, n: int = 1) -> None:
        """Record `n` more finished items."""
        if self._callback is None:
            return
        self._done += n
        if self._done >= self._next:
            self._next = self._done + self._every
            self._callback(self._done, self._total)

    def close(self) -> None:
        """Report the final count once."""
        if self._callback is not None:
            self._callback(self._done, self._total)
