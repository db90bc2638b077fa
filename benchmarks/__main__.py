"""Dispatch `python -m benchmarks NAME [options]` to `benchmarks/bench_NAME.py:main`."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def _names() -> list[str]:
    here = [str(Path(__file__).parent)]
    return sorted(m.name[len("bench_") :] for m in pkgutil.iter_modules(here) if m.name.startswith("bench_"))


def main(argv: list[str]) -> int:
    names = _names()
    if not argv or argv[0] not in names:
        print("usage: python -m benchmarks NAME [options]\nbenchmarks: " + ", ".join(names))
        return 2
    module = importlib.import_module(f"benchmarks.bench_{argv[0]}")
    result: int = module.main(argv[1:])
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
