"""`stakeholder shared-contacts`: the command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import shared_data
from stakeholder.cli import main

ACCOUNTS = """id,name,parent_id
corp,Acme Group,
elm,Elm Park,corp
oak,Oak Lane,corp
cafe,Café Zürich,corp
other,Other Corp,
"""

CONTACTS = """id,account_id,email,phone,deal_stage,conversions,tags
1,elm,Jane+x@Acme.com,,5,1,vip
2,oak,jane@acme.com,020 7946 0018,2,3,
3,cafe,,+44 20 7946 0018,,,
4,elm,solo@acme.com,,,,primary-shared-contact
5,other,jane@acme.com,,,,
6,oak,not an email,call me,,,
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    accounts = tmp_path / "accounts.csv"
    contacts = tmp_path / "contacts.csv"
    accounts.write_text(ACCOUNTS, encoding="utf-8")
    contacts.write_text(CONTACTS, encoding="utf-8")
    return accounts, contacts


def run(files: tuple[Path, Path], out: Path, *extra: str) -> int:
    accounts, contacts = files
    return main(
        [
            "shared-contacts", "--contacts", str(contacts), "--accounts", str(accounts),
            "--corporate", "corp", "--region", "GB", "--out", str(out), *extra,
        ]
    )


def test_writes_plan_and_prints_summary(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan.json"
    code = run(files, out, "--tags", "multi site", "vip-group", "--copy-to-corporate")
    assert code == 0
    text = capsys.readouterr().out
    assert "1 shared contacts" in text
    assert "jane@acme.com" in text
    assert "Elm Park" in text
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert plan["counts"]["shared_people"] == 1
    assert plan["settings"]["tags"] == ["multi site", "vip-group"]
    (copy,) = plan["copies"]
    assert copy["action"] == "create"
    assert "engaging-in-Café Zürich" in copy["contact"]["tags"]
    assert "engaging-in-Elm Park-primary" in copy["contact"]["tags"]
    changes = {t["contact_id"]: t for t in plan["tag_changes"]}
    assert changes["1"]["add"] == ["multi site", "primary-shared-contact", "vip-group"]
    assert changes["4"]["remove"] == ["primary-shared-contact"]
    assert "5" not in changes
    rejected = {(r["record_id"], r["where"]) for r in plan["report"]["rejections"]}
    assert ("6", "contact.email") in rejected
    assert ("6", "contact.phone") in rejected


@pytest.mark.parametrize(("match", "people"), [("email", 1), ("phone", 1), ("either", 1), ("both", 0)])
def test_match_modes(files: tuple[Path, Path], tmp_path: Path, match: str, people: int) -> None:
    out = tmp_path / "plan.json"
    assert run(files, out, "--match", match) == 0
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert plan["counts"]["shared_people"] == people
    assert plan["settings"]["match_on"] == match


def test_plan_to_stdout(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    accounts, contacts = files
    code = main(
        ["shared-contacts", "--contacts", str(contacts), "--accounts", str(accounts),
         "--corporate", "corp", "--region", "GB", "--out", "-"]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["counts"]["shared_people"] == 1
    assert "shared contacts" in captured.err


def test_unusable_input_exits_2(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts, _contacts = files
    code = main(
        ["shared-contacts", "--contacts", str(tmp_path / "missing.csv"),
         "--accounts", str(accounts), "--corporate", "corp"]
    )
    assert code == 2
    assert "missing.csv" in capsys.readouterr().err
    assert run(files, tmp_path / "p.json", "--tags", "primary-shared-contact") == 2
    accounts_file, contacts_file = files
    code = main(
        ["shared-contacts", "--contacts", str(contacts_file), "--accounts", str(accounts_file),
         "--corporate", "nope"]
    )
    assert code == 2
    assert "nope" in capsys.readouterr().err


def test_real_organisation_names_become_tags_unchanged(tmp_path: Path) -> None:
    """Real organisation names (spaces, accents, punctuation) from the bigbang data set,
    as child accounts sharing one person: the copy's tags hold each name as it is."""
    with shared_data("orgs", "bigbang", "organization_categories.csv").open(encoding="utf-8") as f:
        names = [row["name"].strip() for row in csv.DictReader(f) if row["name"].strip()]
    chosen = [n for n in names if not n.isascii()][:3] + [n for n in names if " " in n][:3]
    assert len(chosen) == 6
    accounts = tmp_path / "accounts.jsonl"
    contacts = tmp_path / "contacts.jsonl"
    with accounts.open("w", encoding="utf-8") as f:
        f.write(json.dumps({"id": "corp", "name": "Corporate"}) + "\n")
        for i, name in enumerate(chosen):
            f.write(json.dumps({"id": f"s{i}", "name": name, "parent_id": "corp"}) + "\n")
    with contacts.open("w", encoding="utf-8") as f:
        for i in range(len(chosen)):
            row = {"id": f"c{i}", "account_id": f"s{i}", "email": "Person@Example.org",
                   "deal_stage": i}
            f.write(json.dumps(row) + "\n")
    out = tmp_path / "plan.json"
    code = main(
        ["shared-contacts", "--contacts", str(contacts), "--accounts", str(accounts),
         "--corporate", "corp", "--copy-to-corporate", "--out", str(out)]
    )
    assert code == 0
    plan = json.loads(out.read_text(encoding="utf-8"))
    (copy,) = plan["copies"]
    primary_name = chosen[-1]  # highest deal stage
    expected = {f"engaging-in-{n}" for n in chosen if n != primary_name} | {
        f"engaging-in-{primary_name}-primary"
    }
    assert set(copy["contact"]["tags"]) == expected
    code = main(
        ["shared-contacts", "--contacts", str(contacts), "--accounts", str(accounts),
         "--corporate", "corp", "--copy-to-corporate", "--engaging-both", "--out", str(out)]
    )
    assert code == 0
    (copy,) = json.loads(out.read_text(encoding="utf-8"))["copies"]
    assert set(copy["contact"]["tags"]) == expected | {f"engaging-in-{primary_name}"}


@pytest.mark.parametrize("region", ["ZZZ", "XX", "1"])
def test_an_unknown_region_is_a_bad_option(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, region: str
) -> None:
    accounts = tmp_path / "accounts.jsonl"
    accounts.write_text(json.dumps({"id": "corp", "name": "Corporate"}) + "\n", encoding="utf-8")
    contacts = tmp_path / "contacts.jsonl"
    contacts.write_text("", encoding="utf-8")
    code = main(
        ["shared-contacts", "--contacts", str(contacts), "--accounts", str(accounts),
         "--corporate", "corp", "--region", region]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [err.strip()]
    assert f"--region {region!r} is not a known region" in err
