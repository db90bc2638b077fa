"""docs/notebook.ipynb runs top to bottom in a real Jupyter kernel (nbclient) and shows
the seed scenarios end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "notebook.ipynb"


def _require(module: str) -> None:
    try:
        __import__(module)
    except ImportError:
        if IN_CI:
            pytest.fail(f"{module} is missing: install the dev group")
        pytest.skip(f"{module} is not installed")


def test_example_notebook_runs(tmp_path: Path) -> None:
    for module in ("nbclient", "nbformat", "ipykernel", "pandas", "plotly"):
        _require(module)
    import nbclient
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    text = "\n".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "18 decisions from 18 messages" in text
    assert "umbrella.com: allow sharing it" in text  # the conflict and its fix
    assert "carl@globex.com: 2 records in 2 accounts" in text  # the shared person
    assert "routed to acme (primary), northwind (partner, associated)" in text
    assert "no network needed to view it" in text
    assert "20 worlds routed as expected" in text
    html = [o["data"]["text/html"] for c in notebook.cells if c.cell_type == "code"
            for o in c.outputs if "text/html" in o.get("data", {})]
    assert any("Shared contact: 2 records" in h for h in html)  # the group's _repr_html_
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors == []


def test_committed_notebook_is_clean_json() -> None:
    _require("nbformat")
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    assert sum(c.cell_type == "code" for c in notebook.cells) >= 8
