"""Reading Salesforce and HubSpot exports: good rows all kept, bad rows rejected with
reasons, excluded rows reported as excluded, unusable files raised."""

from __future__ import annotations

import collections
import csv
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stakeholder import AccountKind, AccountStatus, InputFileError
from stakeholder.crm import (
    AccountSelector,
    CrmSnapshot,
    FieldMap,
    SelectionStatus,
    crm_accounts_from_records,
    crm_contacts_from_records,
    read_crm_accounts,
    read_crm_contacts,
    read_crm_export,
    salesforce_id18,
)

FIXTURES = Path(__file__).parent / "fixtures" / "crm"
SF_ACCOUNTS = FIXTURES / "salesforce_accounts.csv"
SF_CONTACTS = FIXTURES / "salesforce_contacts.csv"
HS_COMPANIES = FIXTURES / "hubspot_companies.csv"
HS_CONTACTS = FIXTURES / "hubspot_contacts.csv"

ACTIVE = ["Active", "New", "Live", "Onboarding"]
CHURNED = ["Churned", "Inactive"]
SF_SELECTOR = AccountSelector("Account_Status__c", ACTIVE, CHURNED)
HS_SELECTOR = AccountSelector("Account Status", ACTIVE, CHURNED)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _reasons(snapshot: CrmSnapshot) -> dict[str | None, list[str]]:
    out: dict[str | None, list[str]] = collections.defaultdict(list)
    for rejection in snapshot.rejections:
        out[rejection.record_id].append(rejection.reason)
    return out


@pytest.fixture(scope="module")
def salesforce() -> CrmSnapshot:
    return read_crm_export(SF_ACCOUNTS, SF_CONTACTS, FieldMap.salesforce(), SF_SELECTOR)


@pytest.fixture(scope="module")
def hubspot() -> CrmSnapshot:
    return read_crm_export(HS_COMPANIES, HS_CONTACTS, FieldMap.hubspot(), HS_SELECTOR)


# --------------------------------------------------------------------------- Salesforce


def test_salesforce_every_account_row_is_accounted_for(salesforce: CrmSnapshot) -> None:
    rows = _rows(SF_ACCOUNTS)
    account_rejections = [r for r in salesforce.rejections if "salesforce_accounts" in r.where]
    assert len(salesforce.records) + len(account_rejections) == len(rows)
    excluded_accounts = [r for r in salesforce.excluded if "salesforce_accounts" in r.where]
    assert len(excluded_accounts) == sum(1 for r in salesforce.records if not r.taken)


def test_salesforce_good_account_rows_are_all_kept(salesforce: CrmSnapshot) -> None:
    rows = _rows(SF_ACCOUNTS)
    versions: dict[str, set[tuple[tuple[str, str], ...]]] = collections.defaultdict(set)
    for row in rows:
        versions[row["Id"]].add(tuple(row.items()))
    # a good row: an id, a name, and no other row with that id and different content
    good = {r["Id"] for r in rows if r["Id"] and r["Name"].strip() and len(versions[r["Id"]]) == 1}
    assert {r.account.id for r in salesforce.records} == good
    for record in salesforce.records:
        row = next(r for r in rows if r["Id"] == record.account.id)
        assert record.account.name == row["Name"].strip()
        assert record.selection == SF_SELECTOR.classify(row)
        expected = record.selection.status.account_status
        if expected is not None:
            assert record.account.status is expected


def test_salesforce_statuses_follow_the_picklists(salesforce: CrmSnapshot) -> None:
    by_name = {r.account.name: r for r in salesforce.records}
    assert by_name["Globex Corporation"].selection.status is SelectionStatus.ACTIVE
    assert by_name["Initech"].account.status is AccountStatus.CHURNED
    assert by_name["Stark Industries"].account.status is AccountStatus.CHURNED
    assert by_name["Soylent Corp"].selection.status is SelectionStatus.ACTIVE  # "  active "
    assert by_name["Hooli"].selection.status is SelectionStatus.EXCLUDED
    assert by_name["Vandelay Industries"].selection.status is SelectionStatus.EXCLUDED
    assert "Hooli" not in {a.name for a in salesforce.accounts}
    excluded = {r.record_id: r.reason for r in salesforce.excluded}
    assert "'Prospect'" in excluded[by_name["Hooli"].account.id]
    assert "no value for" in excluded[by_name["Vandelay Industries"].account.id]


def test_salesforce_bad_account_rows_are_rejected_with_reasons(salesforce: CrmSnapshot) -> None:
    reasons = _reasons(salesforce)
    assert any("missing account id" in r for r in reasons[None])
    wayne = salesforce_id18("0015g00000WaYne")
    assert len(reasons[wayne]) == 2
    assert all("differing rows" in r for r in reasons[wayne])
    stark = salesforce_id18("0015g00000StRkI")
    assert len(reasons[stark]) == 1
    assert "the same row" in reasons[stark][0]
    assert stark in {r.account.id for r in salesforce.records}  # one identical copy kept
    nameless = salesforce_id18("0015g00000NoNam")
    assert any("missing account name" in r for r in reasons[nameless])


def test_salesforce_fields_are_mapped(salesforce: CrmSnapshot) -> None:
    by_name = {r.account.name: r.account for r in salesforce.records}
    globex = by_name["Globex Corporation"]
    assert globex.domains == {"www.globex.com"}
    assert by_name["Globex Deutschland GmbH"].parent_id == globex.id
    # a 15-character ParentId finds its 18-character account
    assert by_name["Globex France SAS"].parent_id == globex.id
    assert by_name["Globex France SAS"].domains == {"globex.fr"}
    assert by_name["Umbrella Partners Ltd"].kind is AccountKind.PARTNER
    assert by_name["Initech"].kind is AccountKind.CUSTOMER
    assert by_name["Müller Maschinenbau GmbH"].domains == {"xn--mller-maschinen-zvb.de"}
    assert "O'Brien; DROP TABLE accounts;--" in by_name
    # an unusable website is dropped with a warning; the account is kept
    cyberdyne = by_name["Cyberdyne Systems"]
    assert cyberdyne.domains == frozenset()
    assert any(w.record_id == cyberdyne.id and "Website" in w.reason for w in salesforce.warnings)


def test_salesforce_contacts_good_rows_all_kept(salesforce: CrmSnapshot) -> None:
    rows = _rows(SF_CONTACTS)
    contact_rejections = [r for r in salesforce.rejections if "salesforce_contacts" in r.where]
    contact_excluded = [r for r in salesforce.excluded if "salesforce_contacts" in r.where]
    assert len(salesforce.contacts) + len(contact_rejections) == len(rows)
    assert len(salesforce.selected_contacts) + len(contact_excluded) == len(salesforce.contacts)
    kept = {c.id for c in salesforce.contacts}
    rejected = {r.record_id for r in contact_rejections}
    for row in rows:
        contact_id = salesforce_id18(row["Id"]) if row["Id"] else None
        assert contact_id in kept or contact_id in rejected or contact_id is None


def test_salesforce_bad_contact_rows_are_rejected_with_reasons(salesforce: CrmSnapshot) -> None:
    reasons = _reasons(salesforce)

    def why(short: str) -> list[str]:
        return reasons[salesforce_id18("0035g00000" + short)]

    assert any(r.startswith("unparsable email 'peter.gibbons@@initech'") for r in why("InC02"))
    assert any(r.startswith("unparsable phone '123'") for r in why("UmC01"))
    assert any("unknown account '001000000000001AAA'" in r for r in why("UnC01"))
    assert any("has no account" in r for r in why("NaC01"))
    assert any("the same row" in r for r in why("SoC01"))
    assert any("missing contact id" in r for r in reasons[None])


def test_salesforce_contacts_are_mapped(salesforce: CrmSnapshot) -> None:
    by_id = {c.id: c for c in salesforce.contacts}
    hank = by_id[salesforce_id18("0035g00000GxC01")]
    assert str(hank.email) == "hank.scorpio@globex.com"
    assert hank.phone == "+16502530000"
    assert hank.name == "Hank Scorpio"
    assert hank.title == "Chief Executive Officer"
    assert hank.created_at is not None
    assert hank.created_at.utcoffset() is not None
    # a 15-character AccountId is folded and matched
    anna = by_id[salesforce_id18("0035g00000GdC02")]
    assert anna.account_id == salesforce_id18("0015g00000GlbDe")
    # an unreadable CreatedDate is dropped with a warning; the contact is kept
    sol = by_id[salesforce_id18("0035g00000SoC01")]
    assert sol.created_at is None
    assert any(w.record_id == sol.id and "CreatedDate" in w.reason for w in salesforce.warnings)
    # the contact of an excluded account is reported as excluded, not as an error
    gavin = by_id[salesforce_id18("0035g00000HoC01")]
    assert gavin not in salesforce.selected_contacts
    assert any(r.record_id == gavin.id and "not selected" in r.reason for r in salesforce.excluded)


# --------------------------------------------------------------------------- HubSpot


def test_hubspot_every_company_row_is_accounted_for(hubspot: CrmSnapshot) -> None:
    rows = _rows(HS_COMPANIES)
    rejections = [r for r in hubspot.rejections if "hubspot_companies" in r.where]
    assert len(hubspot.records) + len(rejections) == len(rows)


def test_hubspot_companies_are_selected_and_mapped(hubspot: CrmSnapshot) -> None:
    by_id = {r.account.id: r for r in hubspot.records}
    assert by_id["5100000001"].account.domains == {"acme.com", "acme.co.uk", "acme.de"}
    # "Parent Company" by name and by id both find the parent
    assert by_id["5100000002"].account.parent_id == "5100000001"
    assert by_id["5100000003"].account.parent_id == "5100000001"
    assert by_id["5100000004"].account.status is AccountStatus.CHURNED
    assert by_id["5100000005"].account.kind is AccountKind.PARTNER
    assert by_id["5100000006"].selection.status is SelectionStatus.EXCLUDED  # "Trial"
    assert by_id["5100000007"].selection.status is SelectionStatus.EXCLUDED  # empty
    assert by_id["5100000011"].selection.status is SelectionStatus.ACTIVE  # "ACTIVE"
    assert by_id["5100000010"].account.domains == frozenset()
    assert any(w.record_id == "5100000010" for w in hubspot.warnings)
    reasons = _reasons(hubspot)
    assert any("missing account id" in r for r in reasons[None])
    assert any("missing account name" in r for r in reasons["5100000008"])
    assert len(reasons["5100000009"]) == 2


def test_hubspot_contacts(hubspot: CrmSnapshot) -> None:
    by_id = {c.id: c for c in hubspot.contacts}
    # a contact associated with two companies is one record per company
    assert by_id["7100000004/5100000001"].account_id == "5100000001"
    assert by_id["7100000004/5100000002"].account_id == "5100000002"
    assert "7100000004" not in by_id
    assert by_id["7100000001"].phone == "+16502530000"
    assert by_id["7100000001"].name == "Road Runner"
    assert by_id["7100000001"].title == "CTO"
    reasons = _reasons(hubspot)
    assert any(r.startswith("unparsable email 'gob@bluth'") for r in reasons["7100000006"])
    assert any(r.startswith("unparsable phone 'not-a-phone'") for r in reasons["7100000007"])
    assert any("unknown account '5199999999'" in r for r in reasons["7100000010"])
    assert any("has no account" in r for r in reasons["7100000011"])
    # one known and one unknown association: the known one kept, the other rejected
    assert "7100000013/5100000001" in by_id
    assert any("unknown account" in r for r in reasons["7100000013/5199999999"])
    assert by_id["7100000012"].created_at is None
    assert any(r.record_id == "7100000009" for r in hubspot.excluded)


def test_hubspot_company_id_column_is_an_alternative() -> None:
    text = "Record ID,Email,Company ID\n1,a@acme.com,10\n2,b@acme.com,11\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        path.write_text(text, encoding="utf-8")
        read = read_crm_contacts(path, FieldMap.hubspot(), {"10"})
    assert [c.id for c in read.contacts] == ["1"]
    assert [r.record_id for r in read.rejections] == ["2"]


def test_phone_region_reads_national_numbers(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("Id,AccountId,Phone\nc1,a1,(650) 253-0000\n", encoding="utf-8")
    plain = read_crm_contacts(path, FieldMap.salesforce(), {"a1"})
    assert plain.contacts == ()
    assert "no region" in plain.rejections[0].reason
    us = read_crm_contacts(path, FieldMap.salesforce().with_options(phone_region="US"), {"a1"})
    assert us.contacts[0].phone == "+16502530000"


def test_overridden_columns_are_used(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("Id,Legal_Name__c,Status\na1,Acme Legal,Active\n", encoding="utf-8")
    field_map = FieldMap.salesforce().with_fields(account_name="Legal_Name__c")
    read = read_crm_accounts(path, field_map, AccountSelector("Status", ["Active"]))
    assert [a.name for a in read.accounts] == ["Acme Legal"]


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"\xff\xfeI\x00d\x00", "not UTF-8"),
        (b"Name,Website\nAcme,acme.com\n", "lacks required column"),
        (b"Id,Name\x00\n", "NUL"),
        (b"\n", "header row is empty"),
    ],
)
def test_unusable_files_raise_input_file_error(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=reason) as info:
        read_crm_accounts(path, FieldMap.salesforce(), SF_SELECTOR)
    assert info.value.path == path


def test_missing_file_and_directory_raise(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        read_crm_accounts(tmp_path / "nope.csv", FieldMap.salesforce(), SF_SELECTOR)
    with pytest.raises(InputFileError, match="directory"):
        read_crm_contacts(tmp_path, FieldMap.salesforce(), set())


def test_header_is_matched_ignoring_case_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes("\ufeff ID ,NAME,account_status__c\na1,Acme,Active\n".encode())
    read = read_crm_accounts(path, FieldMap.salesforce(), SF_SELECTOR)
    assert [a.id for a in read.accounts] == ["a1"]


def test_bad_rows_never_stop_the_read(tmp_path: Path) -> None:
    long_name = "N" * 10_000
    text = (
        "Id,Name,Account_Status__c\n"
        "a1,Acme,Active\n"
        "a2,Too,Many,Cells,Active\n"
        f"a3,{long_name},Active\n"
        "a4,\"Quote \"\"inside\"\"\",Active\n"
        "a5\x07,Bell,Active\n"
        ",,\n"
        "\n"
        "a6,Last,Active\n"
    )
    path = tmp_path / "accounts.csv"
    path.write_text(text, encoding="utf-8")
    read = read_crm_accounts(path, FieldMap.salesforce(), SF_SELECTOR)
    names = {a.id: a.name for a in read.accounts}
    assert names["a1"] == "Acme"
    assert names["a3"] == long_name
    assert names["a4"] == 'Quote "inside"'
    assert names["a6"] == "Last"
    assert any("cells" in r.reason for r in read.rejections)
    for rejection in read.rejections:
        assert len(rejection.raw) < 300  # shortened


def test_nul_in_an_id_from_records_is_rejected_not_raised() -> None:
    read = crm_accounts_from_records(
        [{"Id": "a\x00b", "Name": "Nul", "S": "A"}, {"Id": "ok", "Name": "Fine", "S": "A"}, 5],
        FieldMap.salesforce(),
        AccountSelector("S", ["A"]),
    )
    assert [a.id for a in read.accounts] == ["ok"]
    assert any("NUL" in r.reason for r in read.rejections)
    assert any("expected a mapping" in r.reason for r in read.rejections)


def test_records_from_an_api_pull() -> None:
    accounts = crm_accounts_from_records(
        [
            {"Id": "001", "Name": "Acme", "Website": None, "Status__c": "Active"},
            ("api:page2", {"Id": "002", "Name": "Beta", "Status__c": "Churned"}),
        ],
        FieldMap.salesforce(),
        AccountSelector("Status__c", ["Active"], ["Churned"]),
        source="api",
    )
    assert [(a.id, a.status) for a in accounts.accounts] == [
        ("001", AccountStatus.ACTIVE),
        ("002", AccountStatus.CHURNED),
    ]
    assert {r.where for r in accounts.records} == {"api:1", "api:page2"}
    contacts = crm_contacts_from_records(
        [{"Id": "c1", "AccountId": "001", "Email": "Jane@Acme.com"}],
        FieldMap.salesforce(),
        {"001", "002"},
    )
    assert str(contacts.contacts[0].email) == "jane@acme.com"


def test_explain_and_to_dict(salesforce: CrmSnapshot) -> None:
    text = salesforce.explain()
    counts = salesforce.counts()
    assert f"{counts['active']} active" in text
    for rejection in salesforce.rejections:
        assert rejection.reason in text
    data = salesforce.to_dict()
    assert data["counts"] == counts
    assert len(data["rejections"]) == len(salesforce.rejections)


# --------------------------------------------------------------------------- order


def _shuffled_copy(path: Path, order: list[int], directory: Path) -> Path:
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    out = directory / path.name
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(body[i % len(body)] for i in order)
    return out


@settings(max_examples=25)
@given(data=st.data())
def test_reading_does_not_depend_on_row_order(data: st.DataObject) -> None:
    for accounts, contacts, field_map, selector in (
        (SF_ACCOUNTS, SF_CONTACTS, FieldMap.salesforce(), SF_SELECTOR),
        (HS_COMPANIES, HS_CONTACTS, FieldMap.hubspot(), HS_SELECTOR),
    ):
        n_accounts = len(_rows(accounts))
        n_contacts = len(_rows(contacts))
        order_a = data.draw(st.permutations(range(n_accounts)))
        order_c = data.draw(st.permutations(range(n_contacts)))
        with tempfile.TemporaryDirectory() as tmp:
            shuffled = read_crm_export(
                _shuffled_copy(accounts, order_a, Path(tmp)),
                _shuffled_copy(contacts, order_c, Path(tmp)),
                field_map,
                selector,
            )
        original = read_crm_export(accounts, contacts, field_map, selector)
        assert shuffled.accounts == original.accounts
        assert shuffled.contacts == original.contacts
        assert [r.selection for r in shuffled.records] == [r.selection for r in original.records]
        assert sorted(r.record_id or "" for r in shuffled.rejections) == sorted(
            r.record_id or "" for r in original.rejections
        )
        assert len(shuffled.excluded) == len(original.excluded)


def test_contact_ids_that_collide_after_expansion_are_all_rejected(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(
        "Record ID,Email,Associated Company IDs\n1,a@acme.com,10;11\n1/10,b@acme.com,10\n",
        encoding="utf-8",
    )
    read = read_crm_contacts(path, FieldMap.hubspot(), {"10", "11"})
    assert [c.id for c in read.contacts] == ["1/11"]
    assert sorted(r.record_id or "" for r in read.rejections) == ["1/10", "1/10"]
    assert all("several rows" in r.reason for r in read.rejections)


_cells = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(["", " ", "Active", "Churned", "x" * 10_000, "a\x00b", "Ａctive",
                     "'; DROP TABLE t;--", "bücher.de", "https://[::1]/", "+44 20 7946 0018"]),
)


@settings(max_examples=80)
@given(
    accounts=st.lists(
        st.fixed_dictionaries(
            {"Id": _cells, "Name": _cells, "ParentId": _cells, "Website": _cells, "S": _cells}
        ),
        max_size=8,
    ),
    contacts=st.lists(
        st.fixed_dictionaries(
            {"Id": _cells, "AccountId": _cells, "Email": _cells, "Phone": _cells,
             "CreatedDate": _cells}
        ),
        max_size=8,
    ),
)
def test_any_records_are_read_without_raising_and_none_is_lost(
    accounts: list[dict[str, object]], contacts: list[dict[str, object]]
) -> None:
    selector = AccountSelector("S", ["Active"], ["Churned"])
    read = crm_accounts_from_records(accounts, FieldMap.salesforce(), selector)
    assert len(read.records) + len(read.rejections) == len(accounts)
    assert len(read.excluded) == sum(1 for r in read.records if not r.taken)
    ids = [r.account.id for r in read.records]
    assert len(ids) == len(set(ids))
    known = {r.account.id for r in read.records if r.taken}
    excluded = {r.account.id for r in read.records if not r.taken}
    got = crm_contacts_from_records(
        contacts, FieldMap.salesforce(), known, excluded_account_ids=excluded
    )
    assert all(c.account_id in known for c in got.contacts)
    # each row is kept, rejected or excluded (a rejected row may carry several reasons
    # only when it names several accounts, which Salesforce rows cannot)
    assert len(got.contacts) + len(got.rejections) + len(got.excluded) == len(contacts)
