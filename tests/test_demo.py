"""The demo (`make demo`): the main job end to end on the bundled sample, into SQLite."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from stakeholder import RouteStatus
from stakeholder.cli import main
from stakeholder.cli.cmd_demo import run_demo
from stakeholder.storage import open_store

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)

# The sample was written with these answers in mind (src/stakeholder/_sample/).
EXPECTED = {
    "m01@acme.com": (RouteStatus.ROUTED, ("acme",)),  # a unique contact, display name and case
    "m02@acme.com": (RouteStatus.ROUTED, ("acme",)),  # unknown address, domain sync
    "m03@globex.com": (RouteStatus.ROUTED, ("globex",)),  # shared domain, parent owns it
    "m05@globex.com": (RouteStatus.ROUTED, ("globex-spr",)),  # shared contact + unique one
    "m06@northwind-partners.com": (RouteStatus.ROUTED, ("northwind",)),  # partner only
    "m07@northwind-partners.com": (RouteStatus.ROUTED, ("acme", "northwind")),  # customer + partner
    "m08@umbrella.com": (RouteStatus.ROUTED, ("umbrella-eu",)),
    "m09@umbrella.com": (RouteStatus.ROUTED, ("umbrella-eu",)),  # thread memory
    "m10@umbrella.com": (RouteStatus.ROUTED, ("umbrella-us",)),  # override
    "m11@ourco.io": (RouteStatus.INTERNAL, ()),
    "m12@gmail.com": (RouteStatus.UNROUTED, ()),  # unknown personal address
    "m13@gmail.com": (RouteStatus.ROUTED, ("acme",)),  # known personal address
    "m17@umbrella.com": (RouteStatus.ROUTED, ("umbrella-us",)),  # subject names the account
}


def test_demo_runs_end_to_end_into_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    out = io.StringIO()
    assert run_demo(db_url=url, now=NOW, out=out) == 0
    text = out.getvalue()
    for section in ("1. Identity", "2. Domain ownership", "3. Shared contacts", "4. Routing",
                    "5. Stored in", "6. Why?"):
        assert section in text
    assert "missing id" in text  # rejected inputs are shown with reasons
    assert "sync issue: umbrella.com" in text

    store = open_store(url)
    try:
        decisions = {d.comm_id: d for d in store.decisions.list("demo")}
        for comm_id, (status, account_ids) in EXPECTED.items():
            assert decisions[comm_id].status is status, comm_id
            assert decisions[comm_id].account_ids == account_ids, comm_id
        timeline = [d.comm_id for d in store.decisions.timeline("demo", "acme")]
        assert {"m01@acme.com", "m07@northwind-partners.com"} <= set(timeline)
        assert timeline == sorted(
            timeline, key=lambda c: (decisions[c].occurred_at, c)
        )
        count = store.decisions.count("demo")
    finally:
        store.close()

    # running it again replaces, never duplicates
    assert run_demo(db_url=url, now=NOW, out=io.StringIO()) == 0
    store = open_store(url)
    try:
        assert store.decisions.count("demo") == count
    finally:
        store.close()


def test_demo_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["demo", "--db", url, "--now", NOW.isoformat()]) == 0
    assert "timeline of Acme Corp" in capsys.readouterr().out
