"""`stakeholder route`, reader side: --format, size limits, duplicates counted apart,
and a run that reads nothing exits 2 with one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from stakeholder.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
ACCOUNTS = "id,name,domains\nacme,Acme,acme.com\nglobex,Globex,globex.com\n"
CONTACTS = "id,account_id,email\nc1,acme,alice@acme.com\nc2,globex,bob@globex.com\n"


def route(tmp_path: Path, comms: Path, *extra: str) -> list[str]:
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (tmp_path / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    return [
        "route", "--accounts", str(tmp_path / "accounts.csv"),
        "--contacts", str(tmp_path / "contacts.csv"), "--comms", str(comms), *extra,
    ]


def test_duplicates_get_no_decision_and_are_counted_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    box = tmp_path / "twice.mbox"
    data = (FIXTURES / "phantom.mbox").read_bytes()
    box.write_bytes(data + data)  # every message twice
    out = tmp_path / "decisions.jsonl"
    assert main(route(tmp_path, box, "--out", str(out))) == 0
    decisions = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(d["comm_id"] for d in decisions) == ["m1@acme.com", "m2@globex.com", "m3@acme.com"]
    assert all(d["status"] != "rejected" for d in decisions)
    assert "Duplicates: 3 (duplicate of an earlier message" in capsys.readouterr().out


def test_every_item_rejected_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    box = tmp_path / "undated.mbox"
    box.write_bytes(b"From a@b Tue Jan  2 10:00:00 2024\nFrom: a@acme.com\nSubject: x\n\nbody\n\n" * 3)
    assert main(route(tmp_path, box)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"stakeholder: error: no communication could be read from {box}: 3 rejected; "
        "most common reason: missing Date header (3)"
    ]


def test_format_option_and_unusable_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    odd = tmp_path / "export.dat"
    shutil.copy(FIXTURES / "phantom.mbox", odd)
    assert main(route(tmp_path, odd, "--format", "mbox")) == 0
    assert "Routed 3 communications" in capsys.readouterr().out
    assert main(route(tmp_path, odd, "--format", "eml")) == 0  # one message, the first
    assert "Routed 1 communications" in capsys.readouterr().out
    assert main(route(tmp_path, FIXTURES / "maildir", "--format", "maildir")) == 0
    if Path("/dev/zero").exists():
        assert main(route(tmp_path, Path("/dev/zero"))) == 2
        assert "not a regular file (a character device)" in capsys.readouterr().err
    assert main(route(tmp_path, odd, "--max-record-bytes", "0")) == 2
    assert "bad option" in capsys.readouterr().err
