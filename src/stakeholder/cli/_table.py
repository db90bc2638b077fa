"""Plain-text tables and small output helpers shared by the CLI commands."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO


def format_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A left-aligned text table with a header rule; cells are `str()`-ed."""
    text_rows = [[_cell(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in text_rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in text_rows
    )
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(sorted(str(v) for v in value))
    return str(value).replace("\n", " ")


def print_json(data: Any, out: TextIO | None = None) -> None:
    """Pretty, key-sorted JSON on stdout (or `out`)."""
    json.dump(data, out or sys.stdout, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    (out or sys.stdout).write("\n")


def fail(message: str, code: int = 2) -> int:
    """Print `message` on stderr and return the exit code for unusable input."""
    print(f"stakeholder: error: {message}", file=sys.stderr)
    return code
