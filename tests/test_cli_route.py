"""`stakeholder route` end to end on small files and on a real 3GPP mailbox."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from conftest import shared_data
from stakeholder.cli import main
from stakeholder.ingest import read_communications

ACCOUNTS = """id,name,kind,status,parent_id,domains,aliases
acme,Acme Corp,customer,active,,acme.com,ACME
globex,Globex Corporation,customer,active,,,
globex-spr,Globex Springfield,customer,active,globex,globex.com,Springfield
globex-shb,Globex Shelbyville,customer,active,globex,globex.com,Shelbyville
initech,Initech,customer,active,,initech.com,
initrode,Initrode,customer,active,,initech.com,
"""
CONTACTS = """id,account_id,email
c1,acme,Wile <wile@acme.com>
c2,globex-spr,homer@globex.com
c3,globex-shb,homer@globex.com
c4,globex-shb,bart@globex.com
c5,ghost,nobody@acme.com
"""


def message(n: int, sender: str, to: str, subject: str = "Hello", reply_to: str = "") -> str:
    extra = f"In-Reply-To: <{reply_to}>\nReferences: <{reply_to}>\n" if reply_to else ""
    return (
        f"From MAILER-DAEMON Mon Nov  2 09:00:00 2026\n"
        f"From: {sender}\nTo: {to}\nSubject: {subject}\n"
        f"Date: Mon, 02 Nov 2026 {9 + n:02d}:00:00 +0000\nMessage-ID: <m{n}@test>\n{extra}\n"
        "Body.\n\n"
    )


MAILBOX = "".join(
    [
        message(1, "Wile <wile@acme.com>", "casey@ourco.io"),
        message(2, "new@acme.com", "casey@ourco.io"),
        message(3, "visitor@globex.com", "casey@ourco.io"),
        message(4, "homer@globex.com", "casey@ourco.io"),
        message(5, "someone@initech.com", "casey@ourco.io"),
        message(6, "homer@globex.com", "bart@globex.com", reply_to=""),
        message(7, "casey@ourco.io", "team@ourco.io"),
        message(8, "stranger@gmail.com", "casey@ourco.io"),
        "From MAILER-DAEMON Mon Nov  2 09:00:00 2026\nFrom: broken\nSubject: no date\n\nx\n\n",
    ]
)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "accounts": tmp_path / "accounts.csv",
        "contacts": tmp_path / "contacts.csv",
        "comms": tmp_path / "mail.mbox",
        "overrides": tmp_path / "overrides.jsonl",
    }
    paths["accounts"].write_text(ACCOUNTS, encoding="utf-8")
    paths["contacts"].write_text(CONTACTS, encoding="utf-8")
    paths["comms"].write_text(MAILBOX, encoding="utf-8")
    paths["overrides"].write_text(
        json.dumps({"comm_id": "m5@test", "account_ids": ["initrode"], "author": "dana",
                    "reason": "Initrode runs that office", "at": "2026-11-05T08:00:00+00:00"})
        + "\n",
        encoding="utf-8",
    )
    return paths


def args(files: dict[str, Path], *extra: str) -> list[str]:
    return [
        "route", "--accounts", str(files["accounts"]), "--contacts", str(files["contacts"]),
        "--comms", str(files["comms"]), "--internal-domain", "ourco.io",
        "--shared-domain", "globex.com", *extra,
    ]


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_route_writes_one_decision_per_message_and_a_summary(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "decisions.jsonl"
    assert main(args(files, "--out", str(out))) == 0
    decisions = {d["comm_id"]: d for d in read_jsonl(out)}
    assert len(decisions) == 9  # 8 readable messages and 1 the reader rejected
    assert decisions["m1@test"]["account_ids"] == ["acme"]
    assert decisions["m2@test"]["rule"] == "domain_sync"
    assert decisions["m3@test"]["account_ids"] == ["globex"]
    assert decisions["m4@test"]["status"] == "ambiguous"
    assert decisions["m5@test"]["status"] == "ambiguous"
    assert decisions["m6@test"]["account_ids"] == ["globex-shb"]
    assert decisions["m7@test"]["status"] == "internal"
    assert decisions["m8@test"]["status"] == "unrouted"
    rejected = [d for d in decisions.values() if d["status"] == "rejected"]
    assert len(rejected) == 1
    assert rejected[0]["reason"]
    captured = capsys.readouterr()
    assert "Routed 9 communications" in captured.out
    assert "Top ambiguous domains" in captured.out
    assert "globex.com" in captured.out
    assert "unknown account id 'ghost'" in captured.out
    assert "routing:" not in captured.err  # not a terminal: no progress


def test_route_overrides_explain_and_stdout(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(args(files, "--overrides", str(files["overrides"]), "--out", "-",
                     "--explain", "m5@test", "--explain", "missing-id", "--progress"))
    assert code == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    by_id = {d["comm_id"]: d for d in lines}
    assert by_id["m5@test"]["account_ids"] == ["initrode"]
    assert by_id["m5@test"]["rule"] == "override"
    assert "Initrode runs that office" in captured.err
    assert "dana" in captured.err
    assert "no communication with id 'missing-id'" in captured.err
    assert "routing: 9 communications" in captured.err
    assert "Routed 9 communications" in captured.err


def test_route_ambiguous_policy_option(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "d.jsonl"
    assert main(args(files, "--ambiguous", "all", "--out", str(out))) == 0
    by_id = {d["comm_id"]: d for d in read_jsonl(out)}
    assert sorted(by_id["m4@test"]["account_ids"]) == ["globex-shb", "globex-spr"]  # type: ignore[arg-type]
    assert main(args(files, "--shared-primary", "--out", str(out))) == 0
    by_id = {d["comm_id"]: d for d in read_jsonl(out)}
    assert by_id["m4@test"]["rule"] == "shared_primary"


def test_route_reads_gzipped_mbox(files: dict[str, Path], tmp_path: Path) -> None:
    gz = tmp_path / "mail.mbox.gz"
    gz.write_bytes(gzip.compress(files["comms"].read_bytes()))
    files["comms"] = gz
    out = tmp_path / "d.jsonl"
    assert main(args(files, "--out", str(out))) == 0
    assert len(read_jsonl(out)) == 9


@pytest.mark.parametrize("which", ["accounts", "contacts", "comms", "overrides"])
def test_unusable_input_files_exit_2(
    files: dict[str, Path], which: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files[which] = tmp_path / "missing.csv" if which != "comms" else tmp_path / "x.unknown"
    if which == "comms":
        files[which].write_text("x", encoding="utf-8")
    extra = ("--overrides", str(files["overrides"])) if which == "overrides" else ()
    if which == "overrides":
        files["overrides"] = tmp_path / "missing.jsonl"
        extra = ("--overrides", str(files["overrides"]))
    assert main(args(files, *extra)) == 2
    assert "stakeholder: error:" in capsys.readouterr().err


def test_route_on_a_real_3gpp_mailbox(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mbox = shared_data("mail", "3gpp", "3GPP_mbox", "3GPP_TSG_SA_WG4_EVS.mbox")
    orgs = shared_data("orgs", "bigbang", "organization_categories.csv")
    accounts = tmp_path / "accounts.csv"
    with orgs.open(encoding="utf-8", newline="") as src, accounts.open(
        "w", encoding="utf-8", newline=""
    ) as dst:
        writer = csv.writer(dst)
        writer.writerow(["id", "name", "domains"])
        for n, row in enumerate(csv.DictReader(src)):
            writer.writerow([f"org-{n}", row["name"] or f"org-{n}",
                             ";".join(d.strip() for d in row["email domain names"].split(","))])
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("id,account_id,email\n", encoding="utf-8")
    out = tmp_path / "d.jsonl"
    code = main(["route", "--accounts", str(accounts), "--contacts", str(contacts),
                 "--comms", str(mbox), "--out", str(out)])
    assert code == 0
    expected = read_communications(mbox)
    decisions = read_jsonl(out)
    assert len(decisions) == len(expected.items) + len(expected.rejections)
    assert f"Routed {len(decisions)} communications" in capsys.readouterr().out
