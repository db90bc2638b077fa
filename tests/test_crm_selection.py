"""AccountSelector and FieldMap: the documented selection rules, item by item."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stakeholder import AccountStatus, ConfigurationError
from stakeholder.crm import AccountSelector, FieldMap, SelectionStatus, salesforce_id18

ACTIVE = ("Active", "New", "Live", "Onboarding", "Tier 1")
CHURNED = ("Churned", "Inactive")


@pytest.fixture
def selector() -> AccountSelector:
    return AccountSelector("Account Status", ACTIVE, CHURNED)


@pytest.mark.parametrize("value", ACTIVE)
def test_active_values_are_active(selector: AccountSelector, value: str) -> None:
    selection = selector.classify({"Account Status": value})
    assert selection.status is SelectionStatus.ACTIVE
    assert selection.taken
    assert selection.value == value
    assert "active value" in selection.reason
    assert selection.status.account_status is AccountStatus.ACTIVE


@pytest.mark.parametrize("value", CHURNED)
def test_churned_values_are_kept_as_churned(selector: AccountSelector, value: str) -> None:
    selection = selector.classify({"Account Status": value})
    assert selection.status is SelectionStatus.CHURNED
    assert selection.taken  # churned accounts are kept for churn analysis
    assert selection.status.account_status is AccountStatus.CHURNED


@pytest.mark.parametrize("value", ["Prospect", "Trial", "Tier 3", "Activ", "Active!"])
def test_any_other_value_is_excluded_with_the_value_in_the_reason(
    selector: AccountSelector, value: str
) -> None:
    selection = selector.classify({"Account Status": value})
    assert selection.status is SelectionStatus.EXCLUDED
    assert not selection.taken
    assert selection.status.account_status is None
    assert repr(value) in selection.reason
    assert "neither an active value" in selection.reason


def test_missing_field_is_excluded_with_reason(selector: AccountSelector) -> None:
    selection = selector.classify({"Name": "Acme"})
    assert selection.status is SelectionStatus.EXCLUDED
    assert selection.value is None
    assert "has no value for 'Account Status'" in selection.reason


@pytest.mark.parametrize("value", [None, "", "   ", "\t\n"])
def test_empty_field_is_excluded_with_reason(selector: AccountSelector, value: object) -> None:
    selection = selector.classify({"Account Status": value})
    assert selection.status is SelectionStatus.EXCLUDED
    assert "has no value for" in selection.reason


def test_values_are_matched_after_trimming(selector: AccountSelector) -> None:
    assert selector.status({"Account Status": "  Live \t"}) is SelectionStatus.ACTIVE
    assert selector.classify({"Account Status": " Churned "}).value == "Churned"
    trimmed_config = AccountSelector("Account Status", ["  Active  "], [" Churned"])
    assert trimmed_config.active_values == ("Active",)
    assert trimmed_config.status({"Account Status": "Active"}) is SelectionStatus.ACTIVE


def test_case_is_ignored_by_default_and_respected_on_request() -> None:
    loose = AccountSelector("Status", ["Active"], ["Churned"])
    assert loose.status({"Status": "ACTIVE"}) is SelectionStatus.ACTIVE
    assert loose.status({"Status": "churned"}) is SelectionStatus.CHURNED
    strict = AccountSelector("Status", ["Active"], ["Churned"], case_sensitive=True)
    assert strict.status({"Status": "Active"}) is SelectionStatus.ACTIVE
    assert strict.status({"Status": "ACTIVE"}) is SelectionStatus.EXCLUDED


def test_field_name_is_found_ignoring_case_and_spaces() -> None:
    selector = AccountSelector("Account_Status__c", ["Active"])
    assert selector.status({"account_status__c ": "Active"}) is SelectionStatus.ACTIVE
    # an exact match wins over a case-insensitive one
    assert selector.status({"ACCOUNT_STATUS__C": "Active", "Account_Status__c": "Gone"}) is (
        SelectionStatus.EXCLUDED
    )


def test_non_string_values_are_read_as_text() -> None:
    selector = AccountSelector("Tier", ["1", "2"])
    assert selector.status({"Tier": 1}) is SelectionStatus.ACTIVE
    assert selector.status({"Tier": 3}) is SelectionStatus.EXCLUDED


def test_tier_based_selection_takes_only_tier_1_and_2() -> None:
    selector = AccountSelector("Tier__c", ["Tier 1", "Tier 2"], ["Churned"])
    records = [
        {"Id": "a1", "Tier__c": "Tier 1"},
        {"Id": "a2", "Tier__c": "Tier 2"},
        {"Id": "a3", "Tier__c": "Tier 3"},
        {"Id": "a4", "Tier__c": "Tier 10"},
        {"Id": "a5", "Tier__c": ""},
        {"Id": "a6"},
    ]
    taken = [r["Id"] for r in records if selector.classify(r).taken]
    assert taken == ["a1", "a2"]


def test_a_value_in_both_lists_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="both active and churned"):
        AccountSelector("Status", ["Active", "Paused"], ["Paused"])


def test_a_value_in_both_lists_ignoring_case_is_an_error_unless_case_sensitive() -> None:
    with pytest.raises(ConfigurationError, match="ignoring case"):
        AccountSelector("Status", ["Paused"], [" PAUSED "])
    selector = AccountSelector("Status", ["Paused"], ["PAUSED"], case_sensitive=True)
    assert selector.status({"Status": "PAUSED"}) is SelectionStatus.CHURNED


@pytest.mark.parametrize(
    ("field", "active", "churned"),
    [
        ("", ["Active"], []),
        ("   ", ["Active"], []),
        (None, ["Active"], []),
        ("Status", [], ["Churned"]),
        ("Status", ["Active", ""], []),
        ("Status", ["Active"], ["  "]),
        ("Status", [1], []),
        ("Status", 5, []),
    ],
)
def test_bad_configuration_raises(field: object, active: object, churned: object) -> None:
    with pytest.raises(ConfigurationError):
        AccountSelector(field, active, churned)  # type: ignore[arg-type]


def test_a_single_string_is_one_value_not_characters() -> None:
    selector = AccountSelector("Status", "Active", "Churned")
    assert selector.active_values == ("Active",)
    assert selector.churned_values == ("Churned",)


def test_explain_and_to_dict_name_the_configuration(selector: AccountSelector) -> None:
    text = selector.explain()
    assert "'Account Status'" in text
    for value in ACTIVE + CHURNED:
        assert repr(value) in text
    assert selector.to_dict()["active_values"] == list(ACTIVE)
    selection = selector.classify({"Account Status": "Live"})
    assert selection.explain().startswith("active:")
    assert selection.to_dict() == {
        "status": "active",
        "value": "Live",
        "reason": selection.reason,
    }


@pytest.mark.parametrize(
    "value",
    [
        "A" * 10_000,
        "Active\x00",
        "Αctive",  # Greek capital alpha: a look-alike, not the same value
        "'; DROP TABLE accounts; --",
        "Act\u200bive",
    ],
)
def test_hostile_values_are_excluded_not_raised(selector: AccountSelector, value: str) -> None:
    selection = selector.classify({"Account Status": value})
    assert selection.status is SelectionStatus.EXCLUDED
    assert len(selection.reason) < 25_000


_values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12
).filter(lambda v: v.strip() != "")


@given(
    active=st.lists(_values, min_size=1, max_size=4, unique_by=lambda v: v.strip().casefold()),
    churned=st.lists(_values, max_size=4),
    value=_values,
    padding=st.sampled_from(["", " ", "\t", "  \n"]),
)
def test_selection_is_the_same_whatever_the_padding(
    active: list[str], churned: list[str], value: str, padding: str
) -> None:
    active_keys = {v.strip().casefold() for v in active}
    churned = [c for c in churned if c.strip().casefold() not in active_keys]
    selector = AccountSelector("S", active, churned)
    plain = selector.classify({"S": value})
    padded = selector.classify({"S": padding + value + padding})
    assert plain == padded
    expected = (
        SelectionStatus.ACTIVE
        if value.strip().casefold() in active_keys
        else SelectionStatus.CHURNED
        if value.strip().casefold() in {c.strip().casefold() for c in churned}
        else SelectionStatus.EXCLUDED
    )
    assert plain.status is expected


@given(value=_values)
def test_every_listed_value_is_selected(value: str) -> None:
    selector = AccountSelector("S", [value])
    assert selector.status({"S": value}) is SelectionStatus.ACTIVE


# --------------------------------------------------------------------------- FieldMap


def test_ready_mappings_use_the_crm_column_names() -> None:
    sf = FieldMap.salesforce()
    assert sf.account_id == ("Id",)
    assert sf.account_name == ("Name",)
    assert sf.account_parent_id == ("ParentId",)
    assert sf.account_website == ("Website",)
    assert sf.contact_account_id == ("AccountId",)
    assert sf.contact_email == ("Email",)
    assert sf.contact_created_at == ("CreatedDate",)
    assert sf.salesforce_ids
    hs = FieldMap.hubspot()
    assert hs.account_id == ("Record ID",)
    assert "Company name" in hs.account_name
    assert "Company Domain Name" in hs.account_website
    assert "Associated Company IDs" in hs.contact_account_id
    assert "Company ID" in hs.contact_account_id
    assert hs.contact_phone[0] == "Phone Number"
    assert hs.list_separator == ";"
    assert FieldMap.named(" HubSpot ") == hs
    assert FieldMap.named("salesforce") == sf


def test_fields_are_overridable_one_by_one() -> None:
    sf = FieldMap.salesforce().with_fields(account_name="Legal_Name__c", contact_title=None)
    assert sf.account_name == ("Legal_Name__c",)
    assert sf.contact_title == ()
    assert sf.account_id == ("Id",)  # the rest is unchanged
    assert sf.with_options(phone_region="gb").phone_region == "GB"


@pytest.mark.parametrize(
    "change",
    [{"account_nmae": "X"}, {"account_id": None}, {"account_name": ""}, {"contact_id": [1]}],
)
def test_bad_field_overrides_raise(change: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        FieldMap.salesforce().with_fields(**change)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "option",
    [{"phone_region": "GBR"}, {"list_separator": ";;"}, {"naive_timezone": "UTC"}, {"x": 1}],
)
def test_bad_options_raise(option: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        FieldMap.hubspot().with_options(**option)


def test_unknown_crm_name_raises() -> None:
    with pytest.raises(ConfigurationError, match="unknown CRM"):
        FieldMap.named("pipedrive")


def test_salesforce_15_character_ids_fold_to_18() -> None:
    # the suffix encodes which of each 5 characters are upper-case
    assert salesforce_id18("001A0000006Vm9r") == "001A0000006Vm9rIAC"  # a published example
    assert salesforce_id18("00000000000000A") == "00000000000000AAAQ"
    assert salesforce_id18("A0000000000000A") == "A0000000000000ABAQ"
    assert salesforce_id18("aaaaaaaaaaaaaaa") == "aaaaaaaaaaaaaaaAAA"
    assert salesforce_id18("AAAAAAAAAAAAAAA") == "AAAAAAAAAAAAAAA555"
    eighteen = salesforce_id18("001A000001AbCdE")
    assert salesforce_id18(eighteen) == eighteen  # already 18: unchanged
    assert salesforce_id18("not-an-id") == "not-an-id"


@given(st.from_regex(r"[A-Za-z0-9]{15}", fullmatch=True))
def test_id18_differs_for_ids_that_differ_only_in_case(record_id: str) -> None:
    long_id = salesforce_id18(record_id)
    assert len(long_id) == 18
    assert long_id.startswith(record_id)
    swapped = record_id.swapcase()
    if swapped != record_id:
        assert salesforce_id18(swapped).lower() != long_id.lower()
