"""What the benchmarks share: the machine line each prints first, and the timer."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from typing import Any, NamedTuple


def machine(*extras: str) -> str:
    """``machine: <platform>, <N> CPUs, Python <version>``, then `extras` (e.g. the
    versions of the baselines), comma-separated."""
    line = f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    return ", ".join((line, *extras))


class Timing(NamedTuple):
    """One timed call: wall-clock seconds, process CPU seconds (all threads; the
    steadier figure on a shared machine) and what the call returned."""

    wall: float
    cpu: float
    result: Any


def timed(function: Callable[[], Any]) -> Timing:
    """Call `function` once and time it (`wall, cpu, result = timed(...)`)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu, result)
