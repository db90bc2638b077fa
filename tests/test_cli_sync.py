"""`stakeholder sync` and `stakeholder engagement` end to end, against SQLite (a temporary
file) and PostgreSQL (STAKEHOLDER_TEST_POSTGRES_URL, or a server the storage suite's
helpers start; skipped loudly without one, failing in CI)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

import storage_backends
from stakeholder._routing import Evidence, RoutingDecision
from stakeholder.cli import main
from stakeholder.crm import AccountSelector, FieldMap, read_crm_export
from stakeholder.storage import open_store

FIXTURES = Path(__file__).parent / "fixtures" / "crm"
SF_ACCOUNTS = FIXTURES / "salesforce_accounts.csv"
SF_CONTACTS = FIXTURES / "salesforce_contacts.csv"
HS_COMPANIES = FIXTURES / "hubspot_companies.csv"
HS_CONTACTS = FIXTURES / "hubspot_contacts.csv"
T0 = "2024-05-01T09:00:00+00:00"


def sf_args(db: str, *extra: str, accounts: Path = SF_ACCOUNTS) -> list[str]:
    return [
        "sync", "--crm", "salesforce", "--accounts", str(accounts),
        "--contacts", str(SF_CONTACTS), "--status-field", "Account_Status__c",
        "--active", "Active", "New", "Live", "Onboarding", "--churned", "Churned", "Inactive",
        "--grace", "2d", "--db", db, "--tenant", "acme-corp", *extra,
    ]  # fmt: skip


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sync.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema (the storage suite's helpers find or start a server;
    they skip loudly without one, and fail in CI)."""
    url = storage_backends.postgres_url()
    with storage_backends.postgres_schema(url) as schema:
        yield f"{url}{'&' if '?' in url else '?'}schema={schema}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


def run(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_sync_then_an_identical_sync_reports_no_changes(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    code, out, err = run(capsys, sf_args(db_url, "--now", T0))
    assert code == 0, err
    expected = read_crm_export(
        SF_ACCOUNTS,
        SF_CONTACTS,
        FieldMap.salesforce(),
        AccountSelector("Account_Status__c", ["Active", "New", "Live", "Onboarding"],
                        ["Churned", "Inactive"]),
    )
    assert f"{len(expected.accounts)} added" in out
    assert "unknown account column 'Industry'" in out  # reported once, with a count
    assert out.count("unknown account column 'Industry'") == 1
    assert "Set aside:" in out
    assert "Sync issues:" in out
    for rejection in expected.rejections:
        assert rejection.reason.split(":")[0] in out
    store = open_store(db_url)
    try:
        assert store.accounts.list("acme-corp") == sorted(expected.accounts, key=lambda a: a.id)
        assert store.contacts.list("acme-corp") == list(expected.selected_contacts)
        assert store.accounts.count("other-tenant") == 0
    finally:
        store.close()
    code, out, err = run(capsys, sf_args(db_url, "--now", T0))
    assert code == 0, err
    assert "no changes" in out
    # also later, with the clock: nothing pending, so still nothing to do
    code, out, _ = run(capsys, sf_args(db_url))
    assert code == 0
    assert "no changes" in out


def test_removal_after_the_grace_period_through_the_cli(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    rows = list(csv.reader(SF_ACCOUNTS.open(encoding="utf-8", newline="")))
    without_tyrell = tmp_path / "accounts.csv"
    with without_tyrell.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(r for r in rows if "Tyrell Corporation" not in r)
    assert run(capsys, sf_args(db_url, "--now", T0))[0] == 0
    code, out, _ = run(
        capsys, sf_args(db_url, "--now", "2024-05-01T10:00:00Z", accounts=without_tyrell)
    )
    assert code == 0
    assert "removal of 'Tyrell Corporation'" in out
    assert "2024-05-03T10:00:00+00:00" in out
    code, out, _ = run(
        capsys, sf_args(db_url, "--now", "2024-05-03T09:59:59Z", accounts=without_tyrell)
    )
    assert "no changes" in out
    assert "still pending" in out
    code, out, _ = run(
        capsys,
        sf_args(db_url, "--now", "2024-05-03T10:00:00Z", "--json", accounts=without_tyrell),
    )
    data = json.loads(out)
    assert [r["name"] for r in data["plan"]["remove"]] == ["Tyrell Corporation"]
    assert data["applied"]["accounts_deleted"] == 1


def test_sync_issues_are_printed_and_stored(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path
) -> None:
    accounts = tmp_path / "companies.csv"
    accounts.write_text(
        "Record ID,Company name,Company Domain Name,Account Status\n"
        "1,Globex East,globex.com,Active\n2,Globex West,globex.com,Active\n",
        encoding="utf-8",
    )
    args = [
        "sync", "--crm", "hubspot", "--accounts", str(accounts), "--status-field",
        "Account Status", "--active", "Active", "--db", sqlite_url, "--now", T0,
    ]  # fmt: skip
    code, out, _ = run(capsys, args)
    assert code == 0
    assert "Sync issues: 1" in out
    assert "globex.com" in out
    store = open_store(sqlite_url)
    try:
        (issue,) = store.sync_issues.list("default")
        assert issue.domain == "globex.com"
        assert issue.account_ids == ("1", "2")
    finally:
        store.close()
    code, out, _ = run(capsys, [*args, "--shared-domain", "globex.com"])
    assert "Sync issues: 0" in out
    assert "no changes" in out


def test_hubspot_sync_json(capsys: pytest.CaptureFixture[str], sqlite_url: str) -> None:
    args = [
        "sync", "--crm", "hubspot", "--accounts", str(HS_COMPANIES), "--contacts",
        str(HS_CONTACTS), "--status-field", "Account Status", "--active", "Active", "New",
        "--churned", "Churned", "--db", sqlite_url, "--now", T0, "--json",
    ]  # fmt: skip
    code, out, _ = run(capsys, args)
    assert code == 0
    data = json.loads(out)
    assert data["plan"]["counts"]["added"] == data["read"]["counts"]["active"] + data["read"][
        "counts"]["churned"]
    assert data["read"]["counts"]["rejected"] == len(data["read"]["rejections"])
    code, out, _ = run(capsys, args)
    assert json.loads(out)["plan"]["counts"]["added"] == 0


@pytest.mark.parametrize("keep", ["keep", "delete"])
def test_disconnect(capsys: pytest.CaptureFixture[str], db_url: str, keep: str) -> None:
    assert run(capsys, sf_args(db_url, "--now", T0))[0] == 0
    args = ["sync", "--disconnect", keep, "--db", db_url, "--tenant", "acme-corp", "--now", T0]
    code, out, _ = run(capsys, args)
    assert code == 0
    store = open_store(db_url)
    try:
        if keep == "keep":
            assert "keeping the data" in out
            assert store.accounts.count("acme-corp") > 0
        else:
            assert "delete" in out
            assert store.accounts.count("acme-corp") == 0
            assert store.contacts.count("acme-corp") == 0
    finally:
        store.close()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--grace", "soon"], "not a duration"),
        (["--churned", "Active"], "both active and churned"),
        (["--now", "yesterday"], "ISO 8601"),
        (["--map", "account_nmae=X"], "unknown field"),
        (["--map", "oops"], "FIELD=COLUMN"),
        (["--phone-region", "Mars"], "--phone-region 'Mars' is not a known region"),
        (["--phone-region", "XX"], "--phone-region 'XX' is not a known region"),
        (["--phone-region", "ZZZ"], "--phone-region 'ZZZ' is not a known region"),
    ],
)
def test_bad_options_exit_2(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, extra: list[str], message: str
) -> None:
    code, _, err = run(capsys, [*sf_args(sqlite_url), *extra])
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_unusable_input_exits_2(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path
) -> None:
    code, _, err = run(capsys, sf_args(sqlite_url, accounts=tmp_path / "missing.csv"))
    assert code == 2
    assert "no such file" in err
    code, _, err = run(capsys, ["sync", "--db", sqlite_url])
    assert code == 2
    assert "--crm" in err
    assert "--accounts" in err
    code, _, err = run(capsys, sf_args("nosuch://db"))
    assert code == 2
    assert "cannot open the store" in err
    assert not (tmp_path / "sync.db").exists()  # nothing was written for a failed read


def test_engagement(capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path) -> None:
    assert run(capsys, sf_args(db_url, "--now", T0))[0] == 0
    store = open_store(db_url)
    try:
        account = next(a for a in store.accounts.list("acme-corp") if a.name == "Initech")
        store.decisions.put_many(
            "acme-corp",
            [
                RoutingDecision(
                    comm_id=f"m{i}",
                    status="routed",
                    account_ids=(account.id,),
                    occurred_at=dt.datetime(2024, 4, 30 - i, tzinfo=dt.UTC),
                    kind="meeting" if i == 0 else "email",
                    evidence=(
                        Evidence("unique_contact", "strong", (account.id,),
                                 "bill.lumbergh@initech.com"),
                    ),
                )
                for i in range(3)
            ],
        )
        n_accounts = store.accounts.count("acme-corp")
    finally:
        store.close()
    out_csv = tmp_path / "engagement.csv"
    code, _out, err = run(capsys, ["engagement", "--db", db_url, "--tenant", "acme-corp",
                                  "--out", str(out_csv), "--now", T0])
    assert code == 0, err
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8", newline="")))
    assert len(rows) == n_accounts
    initech = next(r for r in rows if r["account_id"] == account.id)
    assert initech["last_touch_at"] == "2024-04-30T00:00:00Z"
    assert (initech["emails_30d"], initech["meetings_30d"], initech["stakeholders_30d"]) == (
        "2", "1", "1")
    out_json = tmp_path / "engagement.json"
    code, _, _ = run(capsys, ["engagement", "--db", db_url, "--tenant", "acme-corp",
                              "--out", str(out_json), "--now", T0, "--fields", "salesforce",
                              "--windows", "7", "--field", "calls=Calls_{days}__c"])
    assert code == 0
    records = json.loads(out_json.read_text(encoding="utf-8"))
    record = next(r for r in records if r["Id"] == account.id)
    assert record["Emails_7d__c"] == 2
    assert "Calls_7__c" in record


def test_engagement_bad_options_exit_2(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path
) -> None:
    base = ["engagement", "--db", sqlite_url, "--out", str(tmp_path / "x.csv")]
    assert run(capsys, [*base, "--windows", "0"])[0] == 2
    assert run(capsys, [*base, "--field", "emails=NoDays"])[0] == 2
    assert run(capsys, [*base, "--field", "bogus=x"])[0] == 2
    assert run(capsys, [*base, "--now", "never"])[0] == 2
    code, _, err = run(capsys, ["engagement", "--db", sqlite_url, "--out",
                                str(tmp_path / "no" / "dir" / "x.csv")])
    assert code == 2
    assert "cannot write" in err


def test_keep_tag_keeps_a_user_tag_of_the_shared_contact_plan(
    capsys: pytest.CaptureFixture[str], sqlite_url: str
) -> None:
    code, _, err = run(capsys, sf_args(sqlite_url, "--now", T0))
    assert code == 0, err
    store = open_store(sqlite_url)
    try:
        first = store.contacts.list("acme-corp")[0]
        tags = {"multi-site", "primary-shared-contact", "engaging-in-X"}
        store.contacts.put("acme-corp", attrs.evolve(first, tags=tags))
    finally:
        store.close()
    code, out, err = run(capsys, sf_args(sqlite_url, "--now", T0, "--keep-tag", "multi-site"))
    assert code == 0, err
    assert "no changes" in out
    code, out, err = run(capsys, sf_args(sqlite_url, "--now", T0))
    assert code == 0, err
    store = open_store(sqlite_url)
    try:
        # without --keep-tag the user tag is the CRM's to drop; the library's tags stay
        kept = store.contacts.get("acme-corp", first.id)
        assert kept is not None
        assert kept.tags == {"primary-shared-contact", "engaging-in-X"}
    finally:
        store.close()
