"""Shared contacts: matching, primary ranking, tags and corporate copies (examples)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import stakeholder
from stakeholder import Account, Contact, EmailAddress
from stakeholder._errors import ConfigurationError, InvalidRecord
from stakeholder._shared import (
    BY_CONVERSIONS,
    BY_CREATED,
    BY_DEAL_STAGE,
    BY_FIRST_CONVERSION,
    BY_RECORD_ID,
    DEFAULT_CASCADE,
    PRIMARY_TAG,
    SECONDARY_TAG,
    CopyAction,
    MatchOn,
    Prefer,
    RankingCriterion,
    SharedContacts,
    apply_shared_contact_plan,
    copy_contact_id,
    engaging_tag,
    find_shared_contacts,
    plan_shared_contact_sync,
    primary_accounts,
    rank_primary,
)

UTC = dt.UTC


def day(n: int) -> dt.datetime:
    return dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(days=n)


ACCOUNTS = (
    Account("corp", "Acme Group"),
    Account("elm", "Elm Park", parent_id="corp"),
    Account("oak", "Oak Lane", parent_id="corp"),
    Account("cafe", "Café Zürich", parent_id="corp"),
    Account("sub", "Elm Park Annex", parent_id="elm"),  # a grandchild
    Account("other", "Other Corp"),
    Account("other-site", "Other Site", parent_id="other"),
)


def groups_as_ids(groups: list[stakeholder.SharedContactGroup]) -> set[frozenset[str]]:
    return {frozenset(c.id for c in g.records) for g in groups}


# --------------------------------------------------------------------------- matching


def test_email_case_and_subaddress_match() -> None:
    contacts = [
        Contact("1", "elm", email="Jane.Doe+crm@ACME.com"),
        Contact("2", "oak", email="jane.doe@acme.com"),
        Contact("3", "cafe", email="JANE.DOE+news@Acme.COM"),
        Contact("4", "oak", email="john@acme.com"),
    ]
    groups = find_shared_contacts(contacts, MatchOn.EMAIL)
    assert groups_as_ids(groups) == {frozenset({"1", "2", "3"})}
    (group,) = groups
    assert group.key == "jane.doe@acme.com"
    assert group.emails == ("jane.doe@acme.com",)
    assert group.account_ids == ("cafe", "elm", "oak")
    assert [link.kind for link in group.links] == ["email"]


@pytest.mark.parametrize(
    ("national", "international", "region"),
    [
        ("020 7946 0018", "+44 20 7946 0018", "GB"),
        ("(020) 7946-0018", "+442079460018", "GB"),
        ("(212) 555-0123", "+1 212-555-0123", "US"),
        ("+1 212 555 0123", "001 212 555 0123", "GB"),  # GB's international prefix 00
        ("030 123456", "+49 30 123456", "DE"),
    ],
)
def test_phones_in_national_and_international_formats_match(
    national: str, international: str, region: str
) -> None:
    contacts = [Contact("1", "elm", phone=national), Contact("2", "oak", phone=international)]
    groups = find_shared_contacts(contacts, MatchOn.PHONE, default_region=region)
    assert groups_as_ids(groups) == {frozenset({"1", "2"})}
    assert groups[0].phones[0].startswith("+")
    assert groups.report.rejections == ()


def test_national_number_without_region_is_reported_not_raised() -> None:
    contacts = [
        Contact("1", "elm", phone="020 7946 0018"),
        Contact("2", "oak", phone="+44 20 7946 0018"),
    ]
    groups = find_shared_contacts(contacts, MatchOn.PHONE)
    assert groups == []
    (rejection,) = groups.report.rejections
    assert rejection.record_id == "1"
    assert rejection.where == "contact.phone"
    assert "region" in rejection.reason
    assert groups.report.ignored == 1


def test_transitive_chain_email_then_phone() -> None:
    contacts = [
        Contact("a", "elm", email="jane@acme.com"),
        Contact("b", "oak", email="Jane@Acme.com", phone="+44 20 7946 0018"),
        Contact("c", "cafe", phone="020 7946 0018"),
    ]
    groups = find_shared_contacts(contacts, default_region="GB")
    assert groups_as_ids(groups) == {frozenset("abc")}
    kinds = {(link.kind, link.record_ids) for link in groups[0].links}
    assert kinds == {("email", ("a", "b")), ("phone", ("b", "c"))}
    assert "email jane@acme.com (a, b)" in groups[0].explain()
    assert "phone +442079460018 (b, c)" in groups[0].explain()


CHAIN = (
    Contact("a", "elm", email="jane@acme.com", phone="+442079460018"),
    Contact("b", "oak", email="jane@acme.com", phone="+442079460019"),
    Contact("c", "cafe", email="j.doe@acme.com", phone="+442079460019"),
    Contact("d", "sub", email="jane@acme.com", phone="+442079460018"),
    Contact("e", "elm", email="solo@acme.com"),
)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (MatchOn.EMAIL, {frozenset("abd")}),
        (MatchOn.PHONE, {frozenset("ad"), frozenset("bc")}),
        (MatchOn.EMAIL_OR_PHONE, {frozenset("abcd")}),
        (MatchOn.EMAIL_AND_PHONE, {frozenset("ad")}),
    ],
)
def test_the_four_match_modes(mode: MatchOn, expected: set[frozenset[str]]) -> None:
    groups = find_shared_contacts(CHAIN, mode)
    assert groups_as_ids(groups) == expected
    for group in groups:
        assert group.match_on is mode


def test_match_on_accepts_cli_words() -> None:
    assert groups_as_ids(find_shared_contacts(CHAIN, "both")) == {frozenset("ad")}
    assert groups_as_ids(find_shared_contacts(CHAIN, "email")) == {frozenset("abd")}
    with pytest.raises(ConfigurationError):
        find_shared_contacts(CHAIN, "fuzzy")


def test_email_and_phone_needs_both_values() -> None:
    contacts = [
        Contact("1", "elm", email="jane@acme.com", phone="+442079460018"),
        Contact("2", "oak", email="jane@acme.com"),
        Contact("3", "cafe", phone="+442079460018"),
    ]
    groups = find_shared_contacts(contacts, MatchOn.EMAIL_AND_PHONE)
    assert groups == []
    assert groups.report.ignored == 2


def test_within_restricts_to_descendants() -> None:
    contacts = [
        Contact("1", "elm", email="jane@acme.com"),
        Contact("2", "sub", email="jane@acme.com"),
        Contact("3", "other-site", email="jane@acme.com"),
        Contact("4", "corp", email="jane@acme.com"),  # the corporate account itself
        Contact("5", "other", email="jane@acme.com"),
    ]
    everywhere = find_shared_contacts(contacts, accounts=ACCOUNTS)
    assert groups_as_ids(everywhere) == {frozenset("12345")}
    inside = find_shared_contacts(contacts, accounts=ACCOUNTS, within="corp")
    assert groups_as_ids(inside) == {frozenset("12")}
    assert inside.report.out_of_scope == 3
    other = find_shared_contacts(contacts, accounts=ACCOUNTS, within="other")
    assert groups_as_ids(other) == set()  # one record only: not shared


def test_within_needs_known_accounts() -> None:
    with pytest.raises(ConfigurationError):
        find_shared_contacts(CHAIN, within="corp")
    with pytest.raises(ConfigurationError):
        find_shared_contacts(CHAIN, accounts=ACCOUNTS, within="nope")


def test_within_survives_a_cycle_in_the_account_tree() -> None:
    accounts = [
        Account("x", "X", parent_id="y"),
        Account("y", "Y", parent_id="x"),
        Account("z", "Z", parent_id="x"),
    ]
    contacts = [Contact("1", "y", email="p@q.com"), Contact("2", "z", email="p@q.com")]
    groups = find_shared_contacts(contacts, accounts=accounts, within="x")
    assert groups_as_ids(groups) == {frozenset("12")}


def test_same_account_duplicates_are_not_shared() -> None:
    contacts = [
        Contact("1", "elm", email="jane@acme.com"),
        Contact("2", "elm", email="jane+x@acme.com"),
    ]
    groups = find_shared_contacts(contacts)
    assert groups == []
    assert groups.report.single_account == 1


def test_a_group_keeps_two_records_of_one_account() -> None:
    contacts = [
        Contact("1", "elm", email="jane@acme.com"),
        Contact("2", "elm", email="jane+x@acme.com"),
        Contact("3", "oak", email="jane@acme.com"),
    ]
    (group,) = find_shared_contacts(contacts)
    assert group.account_ids == ("elm", "oak")
    assert len(group.records) == 3


def test_bad_input_is_reported_never_raised() -> None:
    long_text = "x" * 10_000
    contacts: list[object] = [
        Contact("1", "elm", email="not an email", phone="call me"),
        Contact("2", "oak", email=long_text + "@acme.com", phone=long_text),
        Contact("3", "elm", email="bob@acme.com", phone="+44\x0020 7946 0018"),
        Contact("4", "oak", email="bob@acme.com'; DROP TABLE contacts;--"),
        Contact("5", "cafe", email="bob@аcme.com"),  # Cyrillic 'а'
        Contact("6", "cafe"),
        Contact("7", "dangling", email="bob@acme.com"),
        "not a contact",
        None,
    ]
    groups = find_shared_contacts(contacts, accounts=ACCOUNTS)  # type: ignore[arg-type]
    report = groups.report
    assert report.received == len(contacts)
    where = {(r.record_id, r.where) for r in report.rejections}
    assert ("1", "contact.email") in where
    assert ("1", "contact.phone") in where
    assert ("2", "contact.phone") in where
    assert ("3", "contact.phone") in where
    assert ("7", "contact.account_id") in where
    assert sum(r.where == "contact" for r in report.rejections) == 2
    assert all(len(r.raw) < 300 for r in report.rejections)
    assert report.ignored >= 2  # 1 and 6 have nothing usable
    json.dumps(groups.to_dict())


def test_duplicate_ids_identical_count_once_conflicting_are_set_aside() -> None:
    same = Contact("1", "elm", email="jane@acme.com")
    contacts = [
        same,
        same,
        Contact("2", "oak", email="jane@acme.com"),
        Contact("3", "oak", email="bob@acme.com"),
        Contact("3", "cafe", email="bob@acme.com"),
        Contact("4", "elm", email="bob@acme.com"),
    ]
    groups = find_shared_contacts(contacts)
    assert groups_as_ids(groups) == {frozenset("12")}
    reasons = sorted(r.reason for r in groups.report.rejections)
    assert any("identical" in r for r in reasons)
    assert any("different records share this id" in r for r in reasons)
    # the same whatever the order
    again = find_shared_contacts(list(reversed(contacts)))
    assert groups_as_ids(again) == groups_as_ids(groups)
    assert again.report == groups.report


def test_find_returns_a_list_with_a_report() -> None:
    groups = find_shared_contacts(CHAIN)
    assert isinstance(groups, list)
    assert isinstance(groups, SharedContacts)
    assert groups.report.groups == len(groups)
    assert groups.report.matched_records == sum(len(g.records) for g in groups)
    assert "shared people" in groups.explain()


# --------------------------------------------------------------------------- ranking


def test_rank_deal_stage_highest_wins() -> None:
    records = [
        Contact("1", "oak", deal_stage=2, conversions=9),
        Contact("2", "elm", deal_stage=5),
    ]
    ranking = rank_primary(records, accounts=ACCOUNTS)
    assert ranking.primary.id == "2"
    assert ranking.decided_by == "deal_stage"
    assert ranking.explain() == "Elm Park wins on deal stage 5 over 2 (Oak Lane)"


def test_rank_conversions_after_equal_deal_stage() -> None:
    records = [
        Contact("1", "oak", deal_stage=3, conversions=1, first_conversion_at=day(0)),
        Contact("2", "elm", deal_stage=3, conversions=4, first_conversion_at=day(5)),
    ]
    ranking = rank_primary(records, accounts=ACCOUNTS)
    assert ranking.primary.id == "2"
    assert ranking.decided_by == "conversions"
    assert ranking.steps[0].tied_on == (("deal stage", "3"),)
    assert (
        ranking.explain()
    ) == "Elm Park wins on conversions 4 over 1 (Oak Lane), after ties on deal stage (3)"


def test_rank_first_conversion_earliest_wins() -> None:
    records = [
        Contact("1", "oak", conversions=2, first_conversion_at=day(3), created_at=day(0)),
        Contact("2", "elm", conversions=2, first_conversion_at=day(1), created_at=day(9)),
    ]
    ranking = rank_primary(records)
    assert ranking.primary.id == "2"
    assert ranking.decided_by == "first_conversion"


def test_rank_created_earliest_wins() -> None:
    records = [
        Contact("1", "oak", created_at=day(3)),
        Contact("2", "elm", created_at=day(1)),
    ]
    ranking = rank_primary(records)
    assert ranking.primary.id == "2"
    assert ranking.decided_by == "created"


def test_rank_ties_fall_through_every_step_to_record_id() -> None:
    common = {
        "deal_stage": 3,
        "conversions": 2,
        "first_conversion_at": day(1),
        "created_at": day(0),
    }
    records = [Contact("b", "elm", **common), Contact("a", "oak", **common)]  # type: ignore[arg-type]
    ranking = rank_primary(records, accounts=ACCOUNTS)
    assert ranking.primary.id == "a"
    assert ranking.decided_by == "record_id"
    (step,) = ranking.steps
    assert [label for label, _ in step.tied_on] == [
        "deal stage",
        "conversions",
        "first conversion",
        "created",
    ]
    assert step.explain().startswith("Oak Lane wins on record id a over b (Elm Park)")


def test_missing_values_rank_last() -> None:
    records = [
        Contact("1", "oak"),  # no stage, no dates
        Contact("2", "elm", deal_stage=0),
    ]
    assert rank_primary(records).primary.id == "2"
    dates = [
        Contact("1", "oak", first_conversion_at=None),
        Contact("2", "elm", first_conversion_at=day(400)),
    ]
    assert rank_primary(dates).primary.id == "2"
    created = [Contact("1", "oak"), Contact("2", "elm", created_at=day(400))]
    ranking = rank_primary(created)
    assert ranking.primary.id == "2"
    assert "over missing" in ranking.explain()


def test_rank_names_records_that_share_an_account() -> None:
    records = [Contact("1", "elm", deal_stage=2), Contact("2", "elm", deal_stage=1)]
    assert rank_primary(records, accounts=ACCOUNTS).explain() == (
        "Elm Park [1] wins on deal stage 2 over 1 (Elm Park [2])"
    )


def test_cascade_is_public_and_replaceable() -> None:
    assert DEFAULT_CASCADE == (
        BY_DEAL_STAGE,
        BY_CONVERSIONS,
        BY_FIRST_CONVERSION,
        BY_CREATED,
        BY_RECORD_ID,
    )
    records = [
        Contact("1", "oak", deal_stage=5, title="CEO"),
        Contact("2", "elm", deal_stage=1, title="Buyer Assistant"),
    ]
    longest_title = RankingCriterion(
        "title_length", "title length", lambda c: len(c.title or ""), Prefer.HIGHEST
    )
    ranking = rank_primary(records, (longest_title,))
    assert ranking.primary.id == "2"
    assert ranking.decided_by == "title_length"
    assert ranking.cascade == ("title_length", "record_id")  # record id always ends it
    only_created = rank_primary(records, [BY_CREATED])
    assert only_created.decided_by == "record_id"


def test_rank_primary_rejects_unusable_input() -> None:
    with pytest.raises(InvalidRecord):
        rank_primary([])
    with pytest.raises(InvalidRecord):
        rank_primary([Contact("1", "a"), Contact("1", "b")])
    with pytest.raises(InvalidRecord):
        rank_primary(["nope"])  # type: ignore[list-item]
    with pytest.raises(ConfigurationError):
        rank_primary([Contact("1", "a")], ["deal_stage"])  # type: ignore[list-item]


def test_group_primary_and_routing_hand_off() -> None:
    contacts = [
        Contact("1", "oak", email="jane@acme.com", deal_stage=2),
        Contact("2", "elm", email="jane+x@acme.com", deal_stage=5),
        Contact("3", "cafe", email="bob@acme.com", phone="+442079460018"),
        Contact("4", "elm", email="robert@acme.com", phone="+44 20 7946 0018"),
    ]
    groups = find_shared_contacts(contacts, accounts=ACCOUNTS)
    by_key = {g.key: g for g in groups}
    assert by_key["jane@acme.com"].primary.account_id == "elm"
    assert by_key["jane@acme.com"].primary_account_id == "elm"
    assert "Elm Park wins on deal stage 5 over 2 (Oak Lane)" in by_key["jane@acme.com"].explain()
    mapping = primary_accounts(groups)
    assert mapping["jane@acme.com"] == "elm"
    # a phone-linked person: every email of the group maps to its primary account
    bob = by_key["bob@acme.com"]
    assert mapping["bob@acme.com"] == mapping["robert@acme.com"] == bob.primary_account_id
    assert str(EmailAddress.parse("Jane+Crm@ACME.com")) in mapping


def test_primary_accounts_leaves_out_an_email_with_two_primaries() -> None:
    contacts = [
        Contact("1", "elm", email="desk@acme.com", phone="+442079460018", deal_stage=9),
        Contact("2", "oak", email="desk@acme.com", phone="+442079460018"),
        Contact("3", "oak", email="desk@acme.com", phone="+442079460019", deal_stage=9),
        Contact("4", "cafe", email="desk@acme.com", phone="+442079460019"),
    ]
    groups = find_shared_contacts(contacts, MatchOn.EMAIL_AND_PHONE)
    assert len(groups) == 2
    assert primary_accounts(groups) == {}


# --------------------------------------------------------------------------- tags and copies


def test_tag_formats_keep_names_as_they_are() -> None:
    assert PRIMARY_TAG == "primary-shared-contact"
    assert SECONDARY_TAG == "secondary-shared-contact"
    assert engaging_tag("Elm Park") == "engaging-in-Elm Park"
    assert engaging_tag("Café Zürich", primary=True) == "engaging-in-Café Zürich-primary"


def shared_world() -> list[Contact]:
    return [
        Contact("1", "elm", email="jane@acme.com", deal_stage=5, name="Jane Doe", tags={"vip"}),
        Contact("2", "oak", email="Jane+x@acme.com", deal_stage=2, tags={"newsletter"}),
        Contact("3", "cafe", phone="+44 20 7946 0018", email="jane@acme.com"),
        Contact("4", "elm", email="solo@acme.com", tags={PRIMARY_TAG, "multi-site"}),
        Contact("5", "other-site", email="jane@acme.com"),
    ]


def test_plan_tags_and_copies() -> None:
    contacts = shared_world()
    plan = plan_shared_contact_sync(
        ACCOUNTS,
        contacts,
        tags=["multi-site"],
        corporate_account_id="corp",
        copy_to_corporate=True,
    )
    changes = {t.contact_id: t for t in plan.tag_changes}
    assert changes["1"].add == {"multi-site", PRIMARY_TAG}
    assert changes["2"].add == {"multi-site", SECONDARY_TAG}
    assert changes["3"].add == {"multi-site", SECONDARY_TAG}
    assert changes["4"].remove == {PRIMARY_TAG, "multi-site"}  # not shared
    assert changes["4"].add == frozenset()
    assert "5" not in changes  # another corporate tree: untouched
    (copy,) = plan.copies
    assert copy.action is CopyAction.CREATE
    assert copy.contact.id == copy_contact_id("corp", "jane@acme.com")
    assert copy.contact.account_id == "corp"
    # the primary account gets the -primary tag only, every other one the plain tag
    assert copy.contact.tags == {
        "multi-site",
        "engaging-in-Oak Lane",
        "engaging-in-Café Zürich",
        "engaging-in-Elm Park-primary",
    }
    assert copy.contact.name == "Jane Doe"
    assert copy.contact.phone == "+442079460018"
    assert str(copy.contact.email) == "jane@acme.com"
    data = plan.to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["counts"]["copies_create"] == 1


def test_engaging_both_also_tags_the_primary_plainly_and_switching_updates_the_copy() -> None:
    contacts = shared_world()
    kwargs = {"tags": ["multi-site"], "corporate_account_id": "corp", "copy_to_corporate": True}
    both = plan_shared_contact_sync(ACCOUNTS, contacts, engaging_both=True, **kwargs)  # type: ignore[arg-type]
    (copy,) = both.copies
    assert {"engaging-in-Elm Park", "engaging-in-Elm Park-primary"} <= copy.contact.tags
    assert both.to_dict()["settings"]["engaging_both"] is True
    applied = apply_shared_contact_plan(contacts, both)
    # switching back to the default removes the primary's plain tag, and only it
    again = plan_shared_contact_sync(ACCOUNTS, applied, **kwargs)  # type: ignore[arg-type]
    (update,) = again.copies
    assert update.action is CopyAction.UPDATE
    assert "engaging-in-Elm Park" not in update.contact.tags
    assert "engaging-in-Elm Park-primary" in update.contact.tags
    assert plan_shared_contact_sync(
        ACCOUNTS, apply_shared_contact_plan(applied, again), **kwargs  # type: ignore[arg-type]
    ).is_empty


def test_find_shared_contacts_reports_progress() -> None:
    calls: list[tuple[int, int | None]] = []
    groups = find_shared_contacts(shared_world(), progress=lambda d, t: calls.append((d, t)))
    assert groups
    assert calls[-1] == (5, 5)


def test_plan_apply_plan_is_empty_and_other_tags_are_kept() -> None:
    contacts = shared_world()
    kwargs = {"tags": ["multi-site"], "corporate_account_id": "corp", "copy_to_corporate": True}
    plan = plan_shared_contact_sync(ACCOUNTS, contacts, **kwargs)  # type: ignore[arg-type]
    applied = apply_shared_contact_plan(contacts, plan)
    assert len(applied) == len(contacts) + 1
    by_id = {c.id: c for c in applied}
    assert by_id["1"].tags == {"vip", "multi-site", PRIMARY_TAG}
    assert by_id["2"].tags == {"newsletter", "multi-site", SECONDARY_TAG}
    assert by_id["4"].tags == frozenset()
    again = plan_shared_contact_sync(ACCOUNTS, applied, **kwargs)  # type: ignore[arg-type]
    assert again.is_empty, again.explain()
    assert contacts == shared_world()  # apply is pure


def test_a_person_who_stops_being_shared_is_corrected() -> None:
    contacts = shared_world()
    kwargs = {"tags": ["multi-site"], "corporate_account_id": "corp", "copy_to_corporate": True}
    applied = apply_shared_contact_plan(
        contacts, plan_shared_contact_sync(ACCOUNTS, contacts, **kwargs)  # type: ignore[arg-type]
    )
    # Jane leaves Oak Lane and Café Zürich: only Elm Park has her now
    remaining = [c for c in applied if c.id not in ("2", "3")]
    plan = plan_shared_contact_sync(ACCOUNTS, remaining, **kwargs)  # type: ignore[arg-type]
    changes = {t.contact_id: t for t in plan.tag_changes}
    assert changes["1"].remove == {PRIMARY_TAG, "multi-site"}
    (copy,) = plan.copies
    assert copy.action is CopyAction.REMOVE
    final = apply_shared_contact_plan(remaining, plan)
    assert all(not c.id.startswith("shared-contact:") for c in final)
    assert plan_shared_contact_sync(ACCOUNTS, final, **kwargs).is_empty  # type: ignore[arg-type]


def test_change_of_primary_swaps_system_tags_and_updates_copy() -> None:
    contacts = shared_world()
    kwargs = {"corporate_account_id": "corp", "copy_to_corporate": True}
    applied = apply_shared_contact_plan(
        contacts, plan_shared_contact_sync(ACCOUNTS, contacts, **kwargs)  # type: ignore[arg-type]
    )
    promoted = [
        Contact("2", "oak", email="Jane+x@acme.com", deal_stage=9, tags=c.tags)
        if c.id == "2"
        else c
        for c in applied
    ]
    plan = plan_shared_contact_sync(ACCOUNTS, promoted, **kwargs)  # type: ignore[arg-type]
    changes = {t.contact_id: t for t in plan.tag_changes}
    assert changes["1"].add == {SECONDARY_TAG}
    assert changes["1"].remove == {PRIMARY_TAG}
    assert changes["2"].add == {PRIMARY_TAG}
    assert changes["2"].remove == {SECONDARY_TAG}
    (copy,) = plan.copies
    assert copy.action is CopyAction.UPDATE
    assert "engaging-in-Oak Lane-primary" in copy.contact.tags
    assert "engaging-in-Elm Park-primary" not in copy.contact.tags
    assert "tags" in copy.changed
    final = apply_shared_contact_plan(promoted, plan)
    assert plan_shared_contact_sync(ACCOUNTS, final, **kwargs).is_empty  # type: ignore[arg-type]


def test_existing_copy_under_an_older_key_is_kept_and_duplicates_removed() -> None:
    contacts = shared_world()
    older = Contact(copy_contact_id("corp", "+442079460018"), "corp", email="jane@acme.com")
    stranger = Contact(copy_contact_id("corp", "gone@acme.com"), "corp", email="gone@acme.com")
    plan = plan_shared_contact_sync(
        ACCOUNTS,
        contacts,
        corporate_account_id="corp",
        copy_to_corporate=True,
        existing_copies=[older, stranger],
    )
    actions = {(c.action, c.contact.id) for c in plan.copies}
    assert (CopyAction.UPDATE, older.id) in actions  # its key is still Jane's phone
    assert (CopyAction.REMOVE, stranger.id) in actions
    assert not any(a is CopyAction.CREATE for a, _ in actions)
    applied = apply_shared_contact_plan(contacts, plan)
    assert [c.id for c in applied if c.account_id == "corp"] == [older.id]
    again = plan_shared_contact_sync(
        ACCOUNTS, applied, corporate_account_id="corp", copy_to_corporate=True
    )
    assert again.is_empty, again.explain()


def test_two_copies_of_one_person_keep_the_one_with_the_current_key() -> None:
    contacts = shared_world()
    current = Contact(copy_contact_id("corp", "jane@acme.com"), "corp")
    older = Contact(copy_contact_id("corp", "+442079460018"), "corp")
    plan = plan_shared_contact_sync(
        ACCOUNTS, [*contacts, older, current], corporate_account_id="corp", copy_to_corporate=True
    )
    actions = {(c.action, c.contact.id) for c in plan.copies}
    assert (CopyAction.REMOVE, older.id) in actions
    assert (CopyAction.UPDATE, current.id) in actions


def test_copies_are_left_alone_without_copy_to_corporate() -> None:
    contacts = [*shared_world(), Contact(copy_contact_id("corp", "x@y.com"), "corp")]
    plan = plan_shared_contact_sync(ACCOUNTS, contacts, corporate_account_id="corp")
    assert plan.copies == ()


def test_plan_without_corporate_account_covers_every_known_account() -> None:
    plan = plan_shared_contact_sync(ACCOUNTS, shared_world())
    (group,) = plan.groups
    assert {c.id for c in group.records} == {"1", "2", "3", "5"}
    assert plan.copies == ()


def test_plan_rejects_contradictory_settings() -> None:
    with pytest.raises(ConfigurationError):
        plan_shared_contact_sync(ACCOUNTS, [], copy_to_corporate=True)
    with pytest.raises(ConfigurationError):
        plan_shared_contact_sync(ACCOUNTS, [], tags=[PRIMARY_TAG])
    with pytest.raises(ConfigurationError):
        plan_shared_contact_sync(ACCOUNTS, [], tags=["engaging-in-X"])
    with pytest.raises(ConfigurationError):
        plan_shared_contact_sync(ACCOUNTS, [], tags=[""])
    with pytest.raises(ConfigurationError, match="corporate_account_id"):
        plan_shared_contact_sync(ACCOUNTS, [], corporate_account_id="nope")


def test_conflicting_duplicate_accounts_are_set_aside() -> None:
    accounts = [*ACCOUNTS, Account("oak", "Oak Lane (old)", parent_id="corp")]
    plan = plan_shared_contact_sync(accounts, shared_world(), corporate_account_id="corp")
    wheres = {r.where for r in plan.report.rejections}
    assert "account" in wheres
    assert "contact.account_id" in wheres  # Oak Lane's contact now dangles
    assert all(c.account_id != "oak" for g in plan.groups for c in g.records)


def test_public_names_are_exported() -> None:
    for name in (
        "MatchOn",
        "SharedContactGroup",
        "SharedContactPlan",
        "find_shared_contacts",
        "plan_shared_contact_sync",
        "apply_shared_contact_plan",
        "rank_primary",
        "primary_accounts",
        "DEFAULT_CASCADE",
    ):
        assert name in stakeholder.__all__
        assert getattr(stakeholder, name) is not None


def test_default_region_is_read_like_normalize_phone() -> None:
    contacts = [Contact("1", "elm", phone="020 7946 0018"), Contact("2", "oak", phone="+442079460018")]
    assert len(find_shared_contacts(contacts, default_region=" gb ")) == 1
    with pytest.raises(ConfigurationError):
        find_shared_contacts(contacts, default_region=44)  # type: ignore[arg-type]
    for unknown in ("ZZ", "ZZZ", "XX"):  # an unknown region is a configuration error
        with pytest.raises(ConfigurationError, match="not a phone region"):
            find_shared_contacts(contacts, default_region=unknown)
