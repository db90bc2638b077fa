"""CRM readers: columns per record, unknown columns, deal stage / conversions / tags,
details (company, location, custom fields), and who owns which field in a sync."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from stakeholder import Account, ConfigurationError, Contact
from stakeholder._shared import (
    PRIMARY_TAG,
    SECONDARY_TAG,
    apply_shared_contact_plan,
    plan_shared_contact_sync,
)
from stakeholder.crm import (
    AccountSelector,
    DealPipeline,
    FieldMap,
    SyncState,
    crm_accounts_from_records,
    crm_contacts_from_records,
    plan_account_sync,
    read_crm_contacts,
    sync_crm,
)
from stakeholder.storage import MemoryStore

SELECTOR = AccountSelector("Account_Status__c", ["Active"], ["Churned"])
NOW = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC)
GRACE = dt.timedelta(days=2)


def sf_accounts() -> list[dict[str, str]]:
    return [
        {"Id": "a1", "Name": "Corp", "Account_Status__c": "Active"},  # no ParentId, Website
        {"Id": "a2", "Name": "Elm", "ParentId": "a1", "Website": "elm.example",
         "Account_Status__c": "Active", "BillingCity": "Leeds", "BillingCountry": "UK"},
        {"Id": "a3", "Name": "Oak", "ParentId": "a1", "Website": "oak.example",
         "Account_Status__c": "Active", "Industry": "Retail"},
    ]


# --------------------------------------------------------------------------- item 1


def test_each_record_is_read_by_its_own_keys() -> None:
    """The first record omits ParentId, Website, Email and Title: later records keep them."""
    snap = crm_accounts_from_records(sf_accounts(), FieldMap.salesforce(), SELECTOR)
    by_id = {a.id: a for a in snap.accounts}
    assert by_id["a2"].parent_id == "a1"
    assert by_id["a2"].domains == {"elm.example"}
    assert by_id["a3"].domains == {"oak.example"}
    contacts = crm_contacts_from_records(
        [
            {"Id": "c1", "AccountId": "a2"},
            {"Id": "c2", "AccountId": "a3", "Email": "jo@oak.example", "Title": "CFO"},
        ],
        FieldMap.salesforce(),
        {"a1", "a2", "a3"},
    )
    c2 = {c.id: c for c in contacts.contacts}["c2"]
    assert str(c2.email) == "jo@oak.example"
    assert c2.title == "CFO"


def test_unknown_columns_are_reported_once_with_counts() -> None:
    snap = crm_accounts_from_records(sf_accounts(), FieldMap.salesforce(), SELECTOR)
    assert [(u.what, u.name, u.records) for u in snap.unknown_columns] == [
        ("account", "Industry", 1)
    ]
    assert "unknown account column 'Industry' in 1 record(s)" in snap.explain()
    assert snap.to_dict()["unknown_columns"] == [
        {"what": "account", "name": "Industry", "records": 1}
    ]
    contacts = crm_contacts_from_records(
        [{"Id": f"c{i}", "AccountId": "a2", "Shoe_Size__c": "42", "lead source": ""}
         for i in range(5)],
        FieldMap.salesforce(),
        {"a2"},
    )
    # empty cells are not counted: a column that never holds a value loses nothing
    assert [(u.name, u.records) for u in contacts.unknown_columns] == [("Shoe_Size__c", 5)]


def test_unknown_columns_of_a_csv_export(tmp_path: Path) -> None:
    path = tmp_path / "Contact.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Id", "AccountId", "Email", "LeadSource", "Fax"])
        writer.writerow(["c1", "a1", "jo@x.example", "Web", ""])
        writer.writerow(["c2", "a1", "al@x.example", "Web", "123"])
    read = read_crm_contacts(path, FieldMap.salesforce(), {"a1"})
    assert [(u.name, u.records) for u in read.unknown_columns] == [("Fax", 1), ("LeadSource", 2)]


def test_a_custom_field_is_known_and_kept() -> None:
    field_map = FieldMap.salesforce().with_options(custom_fields=["Industry"])
    snap = crm_accounts_from_records(sf_accounts(), field_map, SELECTOR)
    assert snap.unknown_columns == ()
    details = {r.account.id: r.details for r in snap.records}
    assert details["a3"].get("industry") == "Retail"
    assert details["a2"].location == "Leeds, UK"
    assert not details["a1"]


def test_a_candidate_with_a_value_wins_over_an_empty_one() -> None:
    """Phone is empty, MobilePhone holds the number: omitted or empty, the same result."""
    rows = [{"Id": "c1", "AccountId": "a1", "Phone": "", "MobilePhone": "+44 20 7946 0018"}]
    omitted = [{"Id": "c1", "AccountId": "a1", "MobilePhone": "+44 20 7946 0018"}]
    for records in (rows, omitted):
        (contact,) = crm_contacts_from_records(records, FieldMap.salesforce(), {"a1"}).contacts
        assert contact.phone == "+442079460018"


# --------------------------------------------------------------------------- item 3


def hubspot_contacts() -> list[dict[str, str]]:
    return [
        {"Record ID": "1", "Associated Company IDs": "10", "Email": "a@x.example",
         "Deal Stage": "Contract Sent", "Number of Form Submissions": "3",
         "First Conversion Date": "2023-02-01 10:00", "Tags": "vip; renewal",
         "Company Name": "Elm Ltd", "City": "Leeds", "Country/Region": "UK"},
        {"Record ID": "2", "Associated Company IDs": "10", "Email": "b@x.example",
         "Deal Stage": "decisionmakerboughtin"},
        {"Record ID": "3", "Associated Company IDs": "10", "Deal Stage": "Closed Lost"},
        {"Record ID": "4", "Associated Company IDs": "10", "Deal Stage": "Pilot",
         "Number of Form Submissions": "many", "First Conversion Date": "soon"},
        {"Record ID": "5", "Associated Company IDs": "10", "Deal Stage": "7"},
    ]


def test_hubspot_deal_stage_conversions_dates_tags_and_details() -> None:
    read = crm_contacts_from_records(hubspot_contacts(), FieldMap.hubspot(), {"10"})
    by_id = {c.id: c for c in read.contacts}
    assert by_id["1"].deal_stage == 5  # the fifth stage of HubSpot's default pipeline
    assert by_id["1"].conversions == 3
    assert by_id["1"].first_conversion_at == dt.datetime(2023, 2, 1, 10, 0, tzinfo=dt.UTC)
    assert by_id["1"].tags == {"vip", "renewal"}
    assert by_id["2"].deal_stage == 4  # internal names match labels
    assert by_id["3"].deal_stage == 0  # lost ranks below every open stage
    assert by_id["4"].deal_stage is None
    assert by_id["4"].conversions == 0
    assert by_id["5"].deal_stage == 7  # a number is a rank
    reasons = sorted(w.reason for w in read.warnings)
    assert any("'Pilot' is not a stage of the pipeline" in r for r in reasons)
    assert any("'many' is not a whole number" in r for r in reasons)
    assert any("'soon' is not a date-time" in r for r in reasons)
    details = read.details["1"]
    assert (details.company, details.location) == ("Elm Ltd", "Leeds, UK")
    assert "2" not in read.details


def test_salesforce_stage_order_and_a_configured_pipeline() -> None:
    sf = DealPipeline.salesforce()
    assert sf.rank("Prospecting") == 1
    assert sf.rank("closed won") == 9
    assert sf.rank("Closed Lost") == 0
    assert sf.rank("Negotiation / Review") == 8
    mine = DealPipeline(["Lead", "Trial", "Paying"], lost=["Gone"])
    field_map = FieldMap.salesforce().with_options(pipeline=mine)
    read = crm_contacts_from_records(
        [{"Id": "c1", "AccountId": "a1", "StageName": "Trial"}], field_map, {"a1"}
    )
    assert read.contacts[0].deal_stage == 2
    assert FieldMap.salesforce().with_options(pipeline=["x", "y"]).pipeline == DealPipeline(
        ["x", "y"]
    )
    with pytest.raises(ConfigurationError, match="listed twice"):
        DealPipeline(["Won", "won"])
    with pytest.raises(ConfigurationError):
        DealPipeline([""])


def test_the_deal_stage_decides_the_primary_through_the_cascade() -> None:
    accounts = [Account("corp", "Corp"), Account("10", "Elm", parent_id="corp"),
                Account("11", "Oak", parent_id="corp")]
    rows = [
        {"Record ID": "1", "Associated Company IDs": "10", "Email": "jo@x.example",
         "Deal Stage": "Qualified To Buy", "Create Date": "2020-01-01 09:00"},
        {"Record ID": "2", "Associated Company IDs": "11", "Email": "jo@x.example",
         "Deal Stage": "Closed Won", "Create Date": "2022-01-01 09:00"},
    ]
    read = crm_contacts_from_records(rows, FieldMap.hubspot(), {"corp", "10", "11"})
    plan = plan_shared_contact_sync(accounts, read.contacts, corporate_account_id="corp")
    assert plan.groups[0].primary.id == "2"
    assert plan.groups[0].ranking.decided_by == "deal_stage"


# --------------------------------------------------------------------------- item 2


def _export(tags: str = "") -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    accounts = [
        {"Id": "corp", "Name": "Corp", "Account_Status__c": "Active"},
        {"Id": "elm", "Name": "Elm Park", "ParentId": "corp", "Account_Status__c": "Active"},
        {"Id": "oak", "Name": "Oak Lane", "ParentId": "corp", "Account_Status__c": "Active"},
    ]
    contacts = [
        {"Id": "c1", "AccountId": "elm", "Email": "jane@acme.example", "Tags__c": tags,
         "Deal_Stage__c": "Closed Won"},
        {"Id": "c2", "AccountId": "oak", "Email": "jane@acme.example"},
        {"Id": "c3", "AccountId": "oak", "Email": "solo@acme.example"},
    ]
    return accounts, contacts


def _snapshot(tags: str = ""):  # type: ignore[no-untyped-def]
    accounts, contacts = _export(tags)
    field_map = FieldMap.salesforce()
    snap = crm_accounts_from_records(accounts, field_map, SELECTOR)
    read = crm_contacts_from_records(contacts, field_map, {a.id for a in snap.accounts})
    return snap.with_contacts(read)


def _apply_shared(store: MemoryStore, tenant: str, tags: list[str]) -> None:
    accounts = store.accounts.list(tenant)
    contacts = store.contacts.list(tenant)
    plan = plan_shared_contact_sync(
        accounts, contacts, tags=tags, corporate_account_id="corp", copy_to_corporate=True
    )
    assert not plan.is_empty
    store.contacts.put_many(tenant, apply_shared_contact_plan(contacts, plan))


def test_a_sync_after_the_shared_contact_plan_keeps_what_the_library_owns() -> None:
    store = MemoryStore()
    sync_crm(store, "t", _snapshot(), SELECTOR, now=NOW, removal_grace=GRACE)
    _apply_shared(store, "t", ["multi-site"])
    before = {c.id: c for c in store.contacts.list("t")}
    assert PRIMARY_TAG in before["c1"].tags
    assert any(cid.startswith("shared-contact:corp:") for cid in before)

    again = sync_crm(store, "t", _snapshot(), SELECTOR, now=NOW, removal_grace=GRACE,
                     keep_tags=["multi-site"])
    assert again.plan.is_empty, again.plan.explain()
    assert {c.id: c for c in store.contacts.list("t")} == before
    plan = plan_shared_contact_sync(
        store.accounts.list("t"), store.contacts.list("t"), tags=["multi-site"],
        corporate_account_id="corp", copy_to_corporate=True,
    )
    assert plan.is_empty  # the two features no longer undo each other


def test_the_crm_owns_its_own_tags_and_fields_but_not_the_library_tags() -> None:
    store = MemoryStore()
    sync_crm(store, "t", _snapshot("vip"), SELECTOR, now=NOW, removal_grace=GRACE)
    _apply_shared(store, "t", [])
    assert store.contacts.get("t", "c1").tags == {"vip", PRIMARY_TAG}  # type: ignore[union-attr]
    assert SECONDARY_TAG in store.contacts.get("t", "c2").tags  # type: ignore[union-attr]
    # the CRM drops its tag: it goes, the library's stays
    run = sync_crm(store, "t", _snapshot("churn-risk"), SELECTOR, now=NOW, removal_grace=GRACE)
    assert [c.id for c in run.plan.upsert_contacts] == ["c1"]
    assert store.contacts.get("t", "c1").tags == {"churn-risk", PRIMARY_TAG}  # type: ignore[union-attr]


def test_fields_the_map_does_not_read_keep_their_held_values() -> None:
    held = Contact("c1", "elm", email="jane@acme.example", conversions=4, deal_stage=3,
                   tags={"from-elsewhere"})
    state = SyncState([Account("elm", "Elm Park", aliases={"Elm"})], [held])
    field_map = FieldMap.salesforce().with_fields(
        contact_conversions=None, contact_deal_stage=None, contact_tags=None
    )
    accounts = crm_accounts_from_records(
        [{"Id": "elm", "Name": "Elm Park", "Account_Status__c": "Active"}], field_map, SELECTOR
    )
    read = crm_contacts_from_records(
        [{"Id": "c1", "AccountId": "elm", "Email": "jane@acme.example", "Title": "CFO"}],
        field_map, {"elm"},
    )
    snap = accounts.with_contacts(read)
    assert snap.owned_fields == {"email", "phone", "name", "title", "created_at",
                                 "first_conversion_at"}
    plan = plan_account_sync(state, snap, SELECTOR, now=NOW, removal_grace=GRACE)
    assert plan.update == ()  # the account keeps its aliases
    (written,) = plan.upsert_contacts
    assert written.title == "CFO"  # the CRM's
    assert (written.conversions, written.deal_stage, written.tags) == (
        4, 3, {"from-elsewhere"}
    )  # not the CRM's: kept


def test_contacts_read_equal_those_the_public_constructor_builds() -> None:
    read = crm_contacts_from_records(hubspot_contacts(), FieldMap.hubspot(), {"10"})
    for contact in read.contacts:
        rebuilt = Contact(
            id=contact.id, account_id=contact.account_id, email=contact.email,
            phone=contact.phone, name=contact.name, title=contact.title,
            created_at=contact.created_at, conversions=contact.conversions,
            first_conversion_at=contact.first_conversion_at, deal_stage=contact.deal_stage,
            tags=contact.tags,
        )
        assert type(contact) is Contact
        assert contact == rebuilt
        assert hash(contact) == hash(rebuilt)
    nul = crm_contacts_from_records(
        [{"Record ID": "1", "Associated Company IDs": "1\x000"}], FieldMap.hubspot(), {"1\x000"}
    )
    assert nul.contacts == ()
    assert "NUL" in nul.rejections[0].reason


@pytest.mark.parametrize(
    "text",
    ["acme.com", "https://www.Acme.com/about", "http://x.y/?q", "https://a.b#f",
     "acme.com:8080", "user@acme.com", "ftp://x.com", "HTTPS://acme.com", "www.acme.com/a/b"],
)
def test_the_plain_website_fast_path_reads_like_urlsplit(text: str) -> None:
    import urllib.parse

    from stakeholder.crm._export import _plain_host

    fast = _plain_host(text)
    if fast is not None:
        candidate = text if "://" in text else f"//{text}"
        assert fast == urllib.parse.urlsplit(candidate).hostname


def test_accounts_read_equal_those_the_public_constructor_builds() -> None:
    snap = crm_accounts_from_records(sf_accounts(), FieldMap.salesforce(), SELECTOR)
    for record in snap.records:
        a = record.account
        rebuilt = Account(id=a.id, name=a.name, kind=a.kind, status=a.status,
                          parent_id=a.parent_id, domains=a.domains, aliases=a.aliases)
        assert type(a) is Account
        assert a == rebuilt
        assert hash(a) == hash(rebuilt)
    bad = crm_accounts_from_records(
        [{"Id": "a\x001", "Name": "Nul", "Account_Status__c": "Active"}],
        FieldMap.salesforce(), SELECTOR,
    )
    assert bad.records == ()
    assert "NUL" in bad.rejections[0].reason


@pytest.mark.parametrize("region", ["XX", "ZZZ", "Mars"])
def test_an_unknown_phone_region_is_refused_by_the_field_map(region: str) -> None:
    with pytest.raises(ConfigurationError, match="not a phone region"):
        FieldMap.salesforce().with_options(phone_region=region)
    assert FieldMap.salesforce().with_options(phone_region="gb").phone_region == "GB"
