"""`stakeholder sponsors ...` over a SQLite store and the bundled sample snapshots."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import pytest

from stakeholder.cli import main

SAMPLE = Path(str(importlib.resources.files("stakeholder").joinpath("_sample", "sponsors")))
PROFILES = SAMPLE / "profiles"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["sponsors", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_shows_updates_ctas_and_gaps(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert "bulk-track: 240 started" in out
    assert "stop while In-Progress is refused" in out
    assert "Match Found" in out
    assert "No Match Found" in out
    assert "CTAs:" in out
    assert "risk" in out
    assert "opportunity" in out
    assert "coverage gaps:" in out
    assert "SLA breaches" in out


def test_the_workflow_over_a_sqlite_store(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    store = ["--store", f"sqlite:///{tmp_path / 's.db'}"]
    files = ["--accounts", str(SAMPLE / "accounts.csv"), "--contacts",
             str(SAMPLE / "contacts.csv")]
    code, out, _ = run(capsys, "track", *store, *files, "--person", "p-000",
                       "--now", "2026-10-05T07:00:00")
    assert code == 0
    assert "In-Progress" in out
    code, _, err = run(capsys, "stop", *store, "--person", "p-000",
                       "--now", "2026-10-05T07:01:00")
    assert code == 1
    assert "not allowed while In-Progress" in err
    code, out, _ = run(capsys, "bulk-track", *store, "--account", "acct-00", "--account",
                       "acct-01", "--now", "2026-10-05T07:02:00", "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert len(data["changed"]) == 13
    assert data["skipped"][0]["person_id"] == "p-000"
    code, out, _ = run(capsys, "match", *store, "--profiles", str(PROFILES), "--as-of",
                       "2026-10-05", "--now", "2026-10-05T07:20:00", "--track-all")
    assert code == 0
    assert "matched 14 people" in out
    assert "Track All: 14" in out
    code, out, err = run(capsys, "updates", *store, "--profiles", str(PROFILES), "--as-of",
                         "2026-10-05", "--now", "2026-10-05T07:30:00")
    assert code == 0
    assert "0 pending update(s)" in out
    assert "observed 14" in err
    for day in ("2026-10-12", "2026-10-19", "2026-10-26"):
        code, out, _ = run(capsys, "updates", *store, "--profiles", str(PROFILES),
                           "--as-of", day, "--now", f"{day}T08:00:00", "--format", "json")
        assert code == 0
    pending = json.loads(out)
    assert pending
    assert all(u["state"] == "pending" for u in pending)
    code, out, _ = run(capsys, "accept", *store, "--update", pending[0]["id"], "--update",
                       "nope", "--by", "csm")
    assert code == 0
    assert "accepted 1, refused 1" in out
    code, out, _ = run(capsys, "accept-all", *store, "--by", "csm", "--format", "json")
    assert code == 0
    assert len(json.loads(out)["accepted"]) == len(pending) - 1
    code, out, _ = run(capsys, "updates", *store, "--state", "any", "--since", "2026-10-19",
                       "--until", "2026-10-20", "--format", "json")
    period = json.loads(out)
    assert code == 0
    assert period
    assert all(u["observed_at"].startswith("2026-10-19") for u in period)
    code, out, _ = run(capsys, "sla", *store, "--now", "2026-11-20T00:00:00")
    assert code == 0
    assert "changes reflected" in out
    code, out, _ = run(capsys, "gaps", *store, "--key-accounts", str(SAMPLE / "key_accounts.txt"))
    assert code == 0
    assert "acct-03" in out
    assert "acct-00" not in out
    code, out, _ = run(capsys, "match", *store, "--person", "p-001", "--url",
                       "https://profiles.example/in/p-001", "--now", "2026-11-01T00:00:00")
    assert code == 0
    assert "Tracking In-Progress" in out


def test_bad_input_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = ["--store", f"sqlite:///{tmp_path / 's.db'}"]
    code, _, err = run(capsys, "updates", *store, "--profiles", str(tmp_path / "missing"))
    assert code == 2
    assert "not a folder" in err
    code, _, err = run(capsys, "match", *store, "--profiles", str(PROFILES), "--url", "x")
    assert code == 2
    assert "go together" in err
    code, _, err = run(capsys, "gaps", "--store", "nosuch://x")
    assert code == 2
    assert "cannot open the store" in err
