"""The public surface: `stakeholder.__all__` is sorted, complete and importable, and
`import stakeholder` loads no optional dependency."""

from __future__ import annotations
import __future__

import json
import subprocess
import sys
import types

import stakeholder

OPTIONAL = ("hypothesis", "psycopg", "psycopg_pool", "duckdb", "icalendar", "pyspark")


def test_all_is_sorted_and_unique() -> None:
    assert stakeholder.__all__ == sorted(stakeholder.__all__)
    assert len(set(stakeholder.__all__)) == len(stakeholder.__all__)


def test_all_is_complete() -> None:
    """Every public name bound in the package (not a module, not a `__future__`
    feature such as `annotations`) is listed in `__all__`."""
    public = {
        name
        for name, value in vars(stakeholder).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and not isinstance(value, __future__._Feature)
    }
    missing = sorted(public - set(stakeholder.__all__))
    assert missing == [], f"public names missing from stakeholder.__all__: {missing}"


def test_every_name_in_all_is_importable() -> None:
    for name in stakeholder.__all__:
        namespace: dict[str, object] = {}
        exec(f"from stakeholder import {name}", namespace)
        assert namespace[name] is getattr(stakeholder, name)


def test_import_loads_no_optional_dependency() -> None:
    script = (
        "import json, sys\n"
        "import stakeholder\n"
        f"optional = {OPTIONAL!r}\n"
        "loaded = sorted(m for m in sys.modules\n"
        "                if m.split('.')[0] in optional or m.startswith('stakeholder.testing'))\n"
        "print(json.dumps(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(result.stdout) == []
