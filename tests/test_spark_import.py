"""`import stakeholder` never imports pyspark; `import stakeholder.spark` without it
names the extra to install. Runs in a subprocess with pyspark and pyarrow hidden (no
Java or Spark needed)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

_HIDDEN = textwrap.dedent(
    """
    import sys

    class Hide:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("pyspark", "pyarrow", "py4j"):
                raise ImportError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Hide())
    for name in list(sys.modules):
        if name.split(".")[0] in ("pyspark", "pyarrow", "py4j"):
            del sys.modules[name]
    """
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _HIDDEN + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_core_imports_and_works_without_pyspark() -> None:
    done = _run(
        """
        import stakeholder
        import stakeholder.storage, stakeholder.crm, stakeholder.ingest
        assert not any(m.split(".")[0] in ("pyspark", "pyarrow") for m in sys.modules), sorted(
            m for m in sys.modules if m.startswith(("pyspark", "pyarrow")))
        a = stakeholder.Account("a1", "Acme", domains=["acme.com"])
        c = stakeholder.Contact("c1", "a1", "jane@acme.com")
        own = stakeholder.resolve_domain_ownership([a], [c])
        index = stakeholder.RoutingIndex.build([a], [c], own)
        print(index is not None and own.owner("acme.com"))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "a1"


def test_importing_stakeholder_spark_without_pyspark_names_the_extra() -> None:
    done = _run(
        """
        import stakeholder
        try:
            import stakeholder.spark
        except stakeholder.MissingDependency as exc:
            print(exc.extra, "|", exc)
        else:
            raise SystemExit("imported without pyspark")
        """
    )
    assert done.returncode == 0, done.stderr
    extra, message = done.stdout.strip().split(" | ")
    assert extra == "spark"
    assert "pip install 'stakeholder[spark]'" in message
