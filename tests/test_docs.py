"""Docs that tests keep honest: every ```python block of README.md and docs/*.md runs on
its own (imports included), every public name and every CLI command is documented.

A block runs alone, in a fresh namespace and an empty directory, unless the line before
its fence (blank lines aside) is the marker `<!-- continue -->`: it then runs after the
blocks before it on its page, in their namespace. Use the marker sparingly, for a narrative
that builds one value over several blocks; see docs/testing.md ("Examples in these docs").
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import attrs
import pytest

import stakeholder
from stakeholder.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.glob("*.md")])
_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
CONTINUE = "<!-- continue -->"
#: At most this share of all blocks may lean on the block before them.
MAX_CONTINUED_SHARE = 0.25


@attrs.frozen
class Block:
    page: Path
    line: int  # line number of the block's first code line in the page
    code: str
    continues: bool  # preceded by the continue marker

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT).as_posix()}:{self.line}"


def python_blocks(page: Path) -> list[Block]:
    """Every ```python block of a page, in order."""
    text = page.read_text(encoding="utf-8")
    blocks = []
    for m in _BLOCK.finditer(text):
        before = text[: m.start()].rstrip().rsplit("\n", 1)[-1].strip()
        line = text.count("\n", 0, m.start(1)) + 1
        blocks.append(Block(page, line, m.group(1), before == CONTINUE))
    return blocks


def _runs() -> list[list[Block]]:
    """What each block's test runs: the block alone, or (marked) the page up to it."""
    runs: list[list[Block]] = []
    for page in PAGES:
        blocks = python_blocks(page)
        runs += [blocks[: i + 1] if b.continues else [b] for i, b in enumerate(blocks)]
    return runs


RUNS = _runs()


@pytest.mark.parametrize("run", RUNS, ids=[run[-1].name for run in RUNS])
def test_python_block_runs_on_its_own(
    run: list[Block], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block runs alone in a fresh namespace; a block marked `<!-- continue -->` runs
    after the blocks before it on its page, in their namespace."""
    assert not run[0].continues, f"{run[0].name}: {CONTINUE} before a page's first block"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs.{run[0].page.stem}"}
    for block in run:
        # Pad with blank lines so a traceback points at the line in the page.
        compiled = compile("\n" * (block.line - 1) + block.code, str(block.page), "exec")
        exec(compiled, namespace)


def test_continue_marker_is_used_sparingly() -> None:
    blocks = [block for page in PAGES for block in python_blocks(page)]
    continued = [block.name for block in blocks if block.continues]
    assert len(continued) <= MAX_CONTINUED_SHARE * len(blocks), continued


def test_block_parser_sees_the_marker(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# t\n\n```python\nx = 1\n```\n\n<!-- continue -->\n\n```python\nprint(x)\n```\n"
        "\n```python\ny = 2\n```\n",
        encoding="utf-8",
    )
    blocks = python_blocks(page)
    assert [(b.line, b.code, b.continues) for b in blocks] == [
        (4, "x = 1\n", False), (10, "print(x)\n", True), (14, "y = 2\n", False),
    ]


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
