"""The row codec: its fast paths write exactly what `json` and the values' own
`to_dict()` would, and rows read back through the trusted constructors equal values
built by the public constructors."""

from __future__ import annotations

import json
import platform
import re

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stakeholder import Contact, InvalidRecord, RoutingDecision
from stakeholder.storage import MemoryStore, unstorable_reason
from stakeholder.storage import _codec as codec
from stakeholder.testing.contract import contacts, decisions, texts


def _reference(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


@given(st.lists(st.text() | texts(long=False)))
def test_string_lists_are_json(items: list[str]) -> None:
    assert codec._json_strings(items, "x") == _reference(items)
    assert json.loads(codec._json_strings(items, "x")) == items


@given(decisions())
def test_decision_rows_hold_the_documented_json(decision: RoutingDecision) -> None:
    row, timeline = codec.decision_rows("t", decision)
    assert row[3] == _reference(list(decision.account_ids))
    assert row[4] == _reference(list(decision.candidates))
    assert row[5] == _reference([e.to_dict() for e in decision.evidence])
    assert [t[1] for t in timeline] == list(dict.fromkeys(decision.account_ids))
    back = codec.decision_from_row(row[1:])
    assert back == decision
    assert back == RoutingDecision.from_dict(decision.to_dict())
    assert back.to_dict() == decision.to_dict()


@given(contacts())
def test_contact_rows_read_back_as_constructed_values(contact: Contact) -> None:
    row = codec.contact_row("t", contact)
    back = codec.contact_from_row(row[1:])
    assert back == contact
    # the trusted constructor gives what the public one gives from the same fields
    assert back == Contact(**{f.name: getattr(back, f.name) for f in attrs.fields(Contact)})
    assert hash(back) == hash(contact)


def test_the_stored_columns_cover_every_field_of_the_values() -> None:
    """A field added to a value must be added to its table too (with a migration):
    otherwise the store would drop it silently. This test names what is stored."""
    from stakeholder import Account, Evidence, Override, SyncIssue
    from stakeholder.storage import RunRecord

    def names(cls: type) -> list[str]:
        return [f.name for f in attrs.fields(cls)]

    assert names(Account) == list(codec.ACCOUNT_COLUMNS)
    assert names(Contact) == [c for c in codec.CONTACT_COLUMNS if c != "email_valid"]
    assert names(RoutingDecision) == [c for c in codec.DECISION_COLUMNS if c != "occurred_us"]
    assert set(names(Evidence)) == set(Evidence("override", "strong").to_dict())
    assert set(names(Override)) == set(codec.OVERRIDE_COLUMNS) | {"at"}
    assert names(SyncIssue) == ["domain", *codec.SYNC_ISSUE_COLUMNS[1:]]
    assert names(RunRecord) == list(codec.RUN_COLUMNS)


@given(st.lists(contacts(), max_size=4))
def test_every_contacts_reader_gives_what_the_public_constructors_give(
    items: list[Contact],
) -> None:
    """The fast reader (builders turned into values by `__class__` assignment), the
    trusted-constructor reader and the public-constructor reader agree exactly."""
    rows = [codec.contact_row("t", c)[1:] for c in items]
    expected = codec._contacts_by_name(rows)
    assert expected == items
    for reader in (codec.contacts_from_rows, codec._contacts_swapped, codec._contacts_trusted):
        got = reader(rows)
        assert got == items
        assert [type(c) for c in got] == [Contact] * len(items)
        assert [type(c.email) for c in got] == [type(c.email) for c in items]
        assert [hash(c) for c in got] == [hash(c) for c in items]
        assert [attrs.asdict(c) for c in got] == [attrs.asdict(c) for c in items]
        before: list[Contact] = [*items[:1]]
        assert reader(rows, before) is before
        assert before == [*items[:1], *items]


def test_contacts_read_back_are_ordinary_frozen_values() -> None:
    contact = Contact("c1", "a1", email="Jo@Example.com", tags={"vip"})
    (back,) = codec.contacts_from_rows([codec.contact_row("t", contact)[1:]])
    assert type(back) is Contact
    assert back == contact
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        back.name = "changed"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        back.email.local = "changed"  # type: ignore[misc, union-attr]
    if platform.python_implementation() == "CPython":  # the fast reader is the one in use
        assert codec.contacts_from_rows is codec._contacts_swapped


@settings(max_examples=60)
@given(
    value=st.text(st.characters(blacklist_categories=()), max_size=6)
    | st.sampled_from(["a\x00b", "\ud800", "ok"]),
    stage=st.integers(min_value=-(2**64), max_value=2**64),
)
def test_unstorable_reason_is_what_the_stores_refuse(value: str, stage: int) -> None:
    """`unstorable_reason` says no exactly when a store refuses the value (text in a
    plain column, an integer in a 64-bit one)."""
    for contact, reason in (
        (Contact("c", "a", title=value), unstorable_reason(value)),
        (Contact("c", "a", deal_stage=stage), unstorable_reason(stage)),
    ):
        store = MemoryStore()
        if reason is None:
            store.contacts.put("t", contact)
            assert store.contacts.get("t", "c") == contact
        else:
            with pytest.raises(InvalidRecord, match=re.escape(reason)):
                store.contacts.put("t", contact)
