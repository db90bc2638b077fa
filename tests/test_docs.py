"""Docs that tests keep honest: every ```python block of README.md and docs/*.md runs,
every public name and every CLI command is documented."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

import stakeholder
from stakeholder.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.glob("*.md")])
_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def _python_blocks(page: Path) -> list[tuple[int, str]]:
    """(first line number, code) of each ```python block."""
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in _BLOCK.finditer(text)]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_python_blocks_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks of one page run top to bottom in one namespace, in an empty directory."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    for line, code in _python_blocks(page):
        # Pad with blank lines so a traceback points at the line in the page.
        compiled = compile("\n" * (line - 1) + code, str(page), "exec")
        exec(compiled, namespace)


def _docs_text() -> str:
    return "\n".join(page.read_text(encoding="utf-8") for page in sorted(DOCS.glob("*.md")))


def test_every_public_name_is_documented() -> None:
    text = _docs_text()
    missing = [
        name
        for name in stakeholder.__all__
        if not name.startswith("__") and not re.search(rf"(?<![\w.]){re.escape(name)}\b", text)
    ]
    assert missing == [], f"public names that no docs/*.md page mentions: {missing}"


def _commands() -> list[str]:
    parser = build_parser()
    return sorted(
        name
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    )


def test_every_cli_command_is_documented() -> None:
    text = _docs_text()
    missing = [c for c in _commands() if not re.search(rf"stakeholder {re.escape(c)}\b", text)]
    assert missing == [], f"CLI commands no docs/*.md page shows as `stakeholder <command>`: {missing}"
