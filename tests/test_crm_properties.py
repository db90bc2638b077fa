"""Property: reading a CRM export does not depend on the order of its records, nor on
whether empty fields are written out or left out (as CRM APIs leave them out)."""

from __future__ import annotations

import csv
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stakeholder.crm import (
    AccountSelector,
    CrmContacts,
    CrmSnapshot,
    FieldMap,
    crm_accounts_from_records,
    crm_contacts_from_records,
    read_crm_accounts,
    read_crm_contacts,
)

SELECTOR = AccountSelector("Account_Status__c", ["Active"], ["Churned"])
FIELD_MAP = FieldMap.salesforce().with_options(custom_fields=["Tier__c"])
ACCOUNT_COLUMNS = ("Id", "Name", "ParentId", "Website", "Type", "Account_Status__c",
                   "BillingCity", "BillingCountry", "Tier__c", "Industry")
CONTACT_COLUMNS = ("Id", "AccountId", "Email", "Phone", "MobilePhone", "FirstName", "LastName",
                   "Title", "CreatedDate", "Deal_Stage__c", "Conversions__c", "Tags__c",
                   "MailingCity", "Fax")

ids = st.sampled_from([f"a{i}" for i in range(6)])
maybe = st.one_of(st.just(""), st.just(" "))


def _cell(values: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(maybe, st.sampled_from(values))


account_rows = st.fixed_dictionaries(
    {
        "Id": st.one_of(ids, st.just("")),
        "Name": _cell(["Acme", "Globex", "Initech"]),
        "ParentId": _cell(["a0", "a1", "Acme"]),
        "Website": _cell(["acme.example", "https://www.globex.example/x", "not a site!"]),
        "Type": _cell(["Customer", "Technology Partner"]),
        "Account_Status__c": _cell(["Active", "Churned", "Prospect"]),
        "BillingCity": _cell(["Leeds", "Paris"]),
        "BillingCountry": _cell(["UK", "France"]),
        "Tier__c": _cell(["Tier 1", "Tier 2"]),
        "Industry": _cell(["Retail"]),
    }
).filter(lambda row: any(v.strip() for v in row.values()))  # a blank CSV line is skipped
contact_rows = st.fixed_dictionaries(
    {
        "Id": st.one_of(st.sampled_from([f"c{i}" for i in range(8)]), st.just("")),
        "AccountId": st.one_of(ids, st.just("")),
        "Email": _cell(["jo@acme.example", "Al <al@globex.example>", "nope"]),
        "Phone": _cell(["+44 20 7946 0018", "+44 20 7946 0018 ext 5", "12"]),
        "MobilePhone": _cell(["+1 650 253 0000"]),
        "FirstName": _cell(["Jo", "Al"]),
        "LastName": _cell(["Doe"]),
        "Title": _cell(["CFO"]),
        "CreatedDate": _cell(["2020-01-02T03:04:05+00:00", "yesterday"]),
        "Deal_Stage__c": _cell(["Prospecting", "Closed Won", "Closed Lost", "3", "Pilot"]),
        "Conversions__c": _cell(["0", "4", "many"]),
        "Tags__c": _cell(["vip", "vip;renewal"]),
        "MailingCity": _cell(["Leeds"]),
        "Fax": _cell(["123"]),
    }
).filter(lambda row: any(v.strip() for v in row.values()))


def _omitted(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if v.strip()} for row in rows]


def _reason(text: str) -> str:
    """A rejection's reason without the places it names (line numbers differ)."""
    return re.split(r"[:(]", text)[0].strip()


def _accounts_view(snap: CrmSnapshot) -> tuple[Any, ...]:
    return (
        tuple(snap.records and [(r.account, r.selection, r.details) for r in snap.records]),
        sorted((r.record_id or "", _reason(r.reason)) for r in snap.rejections),
        sorted((r.record_id or "", r.reason) for r in snap.excluded),
        sorted((r.record_id or "", r.reason) for r in snap.warnings),
        snap.unknown_columns,
    )


def _contacts_view(read: CrmContacts) -> tuple[Any, ...]:
    return (
        read.contacts,
        dict(read.details),
        sorted((r.record_id or "", _reason(r.reason)) for r in read.rejections),
        sorted((r.record_id or "", r.reason) for r in read.warnings),
        read.unknown_columns,
    )


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


@settings(max_examples=60, deadline=None)
@given(
    accounts=st.lists(account_rows, max_size=8),
    contacts=st.lists(contact_rows, max_size=10),
    order=st.randoms(use_true_random=False),
)
def test_order_and_omitted_empty_fields_do_not_change_what_is_read(
    accounts: list[dict[str, str]], contacts: list[dict[str, str]], order: Any
) -> None:
    known = {f"a{i}" for i in range(4)}
    excluded = {"a4"}
    shuffled_accounts = _omitted(accounts)
    order.shuffle(shuffled_accounts)
    shuffled_contacts = _omitted(contacts)
    order.shuffle(shuffled_contacts)

    as_written = crm_accounts_from_records(accounts, FIELD_MAP, SELECTOR)
    as_api = crm_accounts_from_records(shuffled_accounts, FIELD_MAP, SELECTOR)
    assert _accounts_view(as_written) == _accounts_view(as_api)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Account.csv"
        _write(path, ACCOUNT_COLUMNS, accounts)
        assert _accounts_view(read_crm_accounts(path, FIELD_MAP, SELECTOR)) == _accounts_view(
            as_api
        )
        path = Path(tmp) / "Contact.csv"
        _write(path, CONTACT_COLUMNS, contacts)
        from_file = read_crm_contacts(path, FIELD_MAP, known, excluded_account_ids=excluded)

    written = crm_contacts_from_records(contacts, FIELD_MAP, known, excluded_account_ids=excluded)
    api = crm_contacts_from_records(
        shuffled_contacts, FIELD_MAP, known, excluded_account_ids=excluded
    )
    assert _contacts_view(written) == _contacts_view(api) == _contacts_view(from_file)
