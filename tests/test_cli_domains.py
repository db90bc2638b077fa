"""`stakeholder domains`: tables, JSON, explanations, options and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stakeholder.cli import main

ACCOUNTS_CSV = """\
id,name,parent_id,domains
g,Globex Corporation,,
g-east,Globex East,g,
g-west,Globex West,g,
i,Initech,,initech.com
h,Hooli,,hooli.com;initech.com
,No Id,,
"""

CONTACTS_CSV = """\
id,account_id,email
c1,g-east,ann@globex.com
c2,g-east,bob@globex.com
c3,g-west,cy@eu.globex.com
c4,i,dee@initech.com
c5,i,eve@gmail.com
c6,i,not-an-email
c7,ghost,x@ghost.com
c8,h,fay@ourco.com
c9,i,gus@partner.io
c10,i,hal@partner.io
c11,i,ivy@partner.io
c12,i,jo@initech.com
c13,i,kim@initech.com
c14,i,lee@initech.com
,i,nobody@initech.com
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    accounts = tmp_path / "accounts.csv"
    contacts = tmp_path / "contacts.csv"
    accounts.write_text(ACCOUNTS_CSV, encoding="utf-8")
    contacts.write_text(CONTACTS_CSV, encoding="utf-8")
    return str(accounts), str(contacts)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["domains", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_tables(files: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    accounts, contacts = files
    code, out, err = run(capsys, "--accounts", accounts, "--contacts", contacts)
    assert code == 0
    assert err == ""
    assert "Domains: 5 claimed (3 unique, 1 shared, 1 conflict)" in out
    lines = out.splitlines()
    globex = next(line for line in lines if line.startswith("globex.com"))
    assert "shared" in globex
    assert "hierarchy" in globex
    initech = next(line for line in lines if line.startswith("initech.com"))
    assert "conflict" in initech
    assert "Sync issues: 1" in out
    assert "--shared-domain initech.com" in out
    assert "Sync modes:" in out
    partner = next(line for line in lines if line.startswith("partner.io"))
    assert "i:secondary:3" in partner
    # Rejected input: a row without id in each file (ingest) and a contact of an
    # unknown account (ownership), each with its reason.
    assert "Rejected input: 3" in out
    assert "missing id" in out
    assert "its account ghost is not among the accounts" in out
    assert "Skipped contacts: 2" in out
    assert "invalid email" in out
    assert "personal domain" in out


def test_shared_domain_option_removes_the_issue(
    files: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    accounts, contacts = files
    code, out, _ = run(
        capsys, "--accounts", accounts, "--contacts", contacts, "--shared-domain", "initech.com"
    )
    assert code == 0
    assert "Sync issues: 0" in out
    assert "(3 unique, 2 shared, 0 conflict)" in out
    code, out, _ = run(capsys, "--accounts", accounts, "--contacts", contacts, "--allow-all-shared")
    assert "Sync issues: 0" in out


def test_internal_domain_and_secondary_min(
    files: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    accounts, contacts = files
    _, out, _ = run(
        capsys,
        "--accounts",
        accounts,
        "--contacts",
        contacts,
        "--internal-domain",
        "ourco.com",
        "--secondary-min",
        "4",
        "--json",
    )
    data = json.loads(out)
    assert data["policy"]["internal_domains"] == ["ourco.com"]
    assert data["policy"]["secondary_min_contacts"] == 4
    assert data["skipped"]["internal domain"] == 1
    assert "partner.io" not in {d["domain"] for d in data["domains"]}


def test_json(files: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    accounts, contacts = files
    code, out, _ = run(capsys, "--accounts", accounts, "--contacts", contacts, "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) >= {
        "domains",
        "issues",
        "accounts",
        "rejections",
        "skipped",
        "policy",
        "summary",
        "input_rejections",
    }
    assert [i["domain"] for i in data["issues"]] == ["initech.com"]
    globex = next(d for d in data["domains"] if d["domain"] == "globex.com")
    assert globex["hierarchy_owner"] == "g"
    assert {a["account_id"]: a["mode"] for a in data["accounts"]}["h"] == "domain"
    assert len(data["input_rejections"]) == 2
    assert {r["file"] for r in data["input_rejections"]} == {"accounts", "contacts"}


def test_explain(files: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    accounts, contacts = files
    code, out, _ = run(
        capsys, "--accounts", accounts, "--contacts", contacts, "--explain", "jo@mail.initech.com"
    )
    assert code == 0
    assert out.startswith("initech.com (from 'jo@mail.initech.com'): CONFLICT")
    assert "h ('Hooli')" in out
    assert "i ('Initech')" in out
    code, out, _ = run(
        capsys,
        "--accounts",
        accounts,
        "--contacts",
        contacts,
        "--explain",
        "globex.com",
        "--explain-account",
        "g",
        "--json",
    )
    data = json.loads(out)
    assert data["domain"]["entry"]["hierarchy_owner"] == "g"
    assert "hierarchy owner" in data["domain"]["explanation"]
    assert "hierarchy owner of globex.com" in data["account"]["explanation"]


def test_explain_bad_arguments_exit_2(
    files: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    accounts, contacts = files
    code, _, err = run(capsys, "--accounts", accounts, "--contacts", contacts, "--explain", "1.2.3.4")
    assert code == 2
    assert "IP address" in err
    code, _, err = run(
        capsys, "--accounts", accounts, "--contacts", contacts, "--explain-account", "nobody"
    )
    assert code == 2
    assert "unknown account 'nobody'" in err


def test_unusable_input_exits_2(
    files: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts, contacts = files
    code, out, err = run(capsys, "--accounts", str(tmp_path / "nope.csv"), "--contacts", contacts)
    assert code == 2
    assert out == ""
    assert "nope.csv" in err
    odd = tmp_path / "accounts.xlsx"
    odd.write_text("x", encoding="utf-8")
    code, _, err = run(capsys, "--accounts", str(odd), "--contacts", contacts)
    assert code == 2
    code, _, err = run(capsys, "--accounts", accounts, "--contacts", contacts, "--secondary-min", "0")
    assert code == 2
    assert "--secondary-min" in err
    code, _, err = run(
        capsys, "--accounts", accounts, "--contacts", contacts, "--internal-domain", "co.uk"
    )
    assert code == 2
    assert "public suffix" in err


def test_jsonl_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    accounts = tmp_path / "accounts.jsonl"
    contacts = tmp_path / "contacts.jsonl"
    accounts.write_text(
        "\n".join(
            json.dumps(a)
            for a in [
                {"id": "a", "name": "Acme", "domains": ["acme.com"]},
                {"id": "b", "name": "Acme Labs", "domains": ["acme.com", "labs.io"]},
            ]
        ),
        encoding="utf-8",
    )
    contacts.write_text(
        json.dumps({"id": "c1", "account_id": "a", "email": "x@acme.com"}) + "\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "--accounts", str(accounts), "--contacts", str(contacts))
    assert code == 0
    assert "Sync issues: 1" in out
    assert "labs.io" in out


def test_empty_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    accounts = tmp_path / "accounts.csv"
    contacts = tmp_path / "contacts.csv"
    accounts.write_text("id,name\n", encoding="utf-8")
    contacts.write_text("id,account_id,email\n", encoding="utf-8")
    code, out, _ = run(capsys, "--accounts", str(accounts), "--contacts", str(contacts))
    assert code == 0
    assert "Domains: 0 claimed" in out
    assert "Rejected input: 0" in out
