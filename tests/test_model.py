"""Values: converters clean input, validators reject it with a typed error."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import given

from stakeholder import (
    Account,
    AccountKind,
    AccountStatus,
    CommKind,
    Communication,
    Contact,
    EmailAddress,
    InvalidDomain,
    InvalidRecord,
    Participant,
    Rejection,
    Role,
    StakeholderError,
)
from stakeholder.testing import strategies as sst

NOW = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
NAIVE = dt.datetime(2026, 1, 5, 9, 30)  # deliberately naive
BAD_IDS = [None, "", 7, b"a-1", "a\x00b"]


def _rejects(build: Any, raw: object) -> InvalidRecord:
    with pytest.raises(InvalidRecord) as info:
        build()
    error = info.value
    assert isinstance(error, StakeholderError)
    assert isinstance(error, ValueError)
    assert error.raw == raw or error.raw is raw
    assert error.reason
    return error


# --------------------------------------------------------------------------- Account


def test_account_converters() -> None:
    account = Account(
        id="acme",
        name="  Acme Corp ",
        kind="Partner ",
        status="CHURNED",
        domains=["WWW.Acme.COM.", "acme.co.uk", "bücher.de"],
        aliases=["ACME", " ", "Acme Inc."],
    )
    assert account.name == "Acme Corp"
    assert account.kind is AccountKind.PARTNER
    assert account.status is AccountStatus.CHURNED
    assert account.domains == {"www.acme.com", "acme.co.uk", "xn--bcher-kva.de"}
    assert account.aliases == {"ACME", "Acme Inc."}
    assert Account(id="a", name="A", domains="acme.com").domains == {"acme.com"}
    assert Account(id="a", name="A", aliases=None).aliases == frozenset()
    defaults = Account(id="a", name="A")
    assert (defaults.kind, defaults.status, defaults.parent_id) == (
        AccountKind.CUSTOMER,
        AccountStatus.ACTIVE,
        None,
    )


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_account_rejects_bad_ids(bad: object) -> None:
    _rejects(lambda: Account(id=bad, name="Acme"), bad)  # type: ignore[arg-type]
    if bad is not None:  # parent_id is optional: None means no parent
        _rejects(lambda: Account(id="a", name="Acme", parent_id=bad), bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [None, "", "   ", 5])
def test_account_rejects_bad_names(bad: object) -> None:
    expected_raw = "" if bad == "   " else bad  # the converter strips first
    _rejects(lambda: Account(id="a", name=bad), expected_raw)


def test_account_rejects_the_rest() -> None:
    _rejects(lambda: Account(id="a", name="A", kind="vendor"), "vendor")
    _rejects(lambda: Account(id="a", name="A", status=3), 3)
    _rejects(lambda: Account(id="a", name="A", parent_id="a"), "a")
    _rejects(lambda: Account(id="a", name="A", aliases=5), 5)
    _rejects(lambda: Account(id="a", name="A", aliases=["x", 5]), 5)
    with pytest.raises(InvalidDomain):
        Account(id="a", name="A", domains=["acme..com"])
    with pytest.raises(InvalidDomain):
        Account(id="a", name="A", domains=["127.0.0.1"])


def test_values_are_frozen() -> None:
    account = Account(id="a", name="A")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        account.name = "B"  # type: ignore[misc]
    assert attrs.evolve(account, name="B").name == "B"


# --------------------------------------------------------------------------- Contact


def test_contact_email_is_parsed_or_kept_raw_with_a_reason() -> None:
    parsed = Contact(id="c1", account_id="a", email="Jane <Jane+crm@Acme.com>")
    assert parsed.email == EmailAddress("jane", "acme.com")
    assert parsed.email_address == EmailAddress("jane", "acme.com")
    assert parsed.email_error is None
    given_address = EmailAddress.parse("jane@acme.com")
    assert Contact(id="c1", account_id="a", email=given_address).email is given_address
    assert Contact(id="c1", account_id="a", email="jane@acme.com") == parsed
    broken = Contact(id="c2", account_id="a", email="jane at acme")
    assert broken.email == "jane at acme"
    assert broken.email_address is None
    assert broken.email_error
    assert Contact(id="c3", account_id="a", email="   ").email is None
    assert Contact(id="c3", account_id="a").email_error is None


def test_contact_converters() -> None:
    contact = Contact(
        id="c1",
        account_id="a",
        phone=" +44 20 7946 0018 ",
        name=" Jane ",
        title="  ",
        created_at=NOW,
        conversions=2,
        first_conversion_at=NOW,
        deal_stage=3,
        tags=["vip", "vip", " "],
    )
    assert contact.phone == "+44 20 7946 0018"  # kept as written; see normalize_phone
    assert contact.name == "Jane"
    assert contact.title is None
    assert contact.tags == {"vip"}
    assert contact.deal_stage == 3


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_contact_rejects_bad_ids(bad: object) -> None:
    _rejects(lambda: Contact(id=bad, account_id="a"), bad)  # type: ignore[arg-type]
    _rejects(lambda: Contact(id="c", account_id=bad), bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("email", 5),
        ("phone", 44),
        ("name", 3),
        ("title", ["x"]),
        ("created_at", NAIVE),
        ("created_at", "2026-01-05"),
        ("first_conversion_at", NAIVE),
        ("conversions", -1),
        ("conversions", True),
        ("conversions", "3"),
        ("conversions", 2.0),
        ("deal_stage", "won"),
        ("deal_stage", False),
        ("tags", 5),
    ],
)
def test_contact_rejects_bad_fields(field: str, bad: object) -> None:
    _rejects(lambda: Contact(id="c", account_id="a", **{field: bad}), bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Participant


def test_participant() -> None:
    participant = Participant("Jane <JANE@acme.com>", role="CC", name=" Jane ")
    assert participant.address == "Jane <JANE@acme.com>"  # raw: parsed during routing
    assert participant.role is Role.CC
    assert participant.name == "Jane"
    assert Participant("not an address").role is Role.TO
    _rejects(lambda: Participant(None), None)  # type: ignore[arg-type]
    _rejects(lambda: Participant("a@b.c", role="reader"), "reader")
    _rejects(lambda: Participant("a@b.c", name=5), 5)


# --------------------------------------------------------------------------- Communication


def test_communication() -> None:
    people = [Participant("a@acme.com", role=Role.FROM), Participant("b@globex.com")]
    comm = Communication(
        id="m1",
        occurred_at=NOW,
        participants=people,
        subject=None,
        kind="Meeting",
    )
    assert comm.participants == tuple(people)
    assert comm.subject == ""
    assert comm.kind is CommKind.MEETING
    assert comm.thread_id is None
    other_zone = NOW.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert Communication(id="m2", occurred_at=other_zone, participants=()).occurred_at == NOW


@pytest.mark.parametrize(
    ("changes", "bad"),
    [
        ({"id": ""}, ""),
        ({"id": None}, None),
        ({"occurred_at": NAIVE}, NAIVE),
        ({"occurred_at": None}, None),
        ({"occurred_at": "2026-01-05T09:30Z"}, "2026-01-05T09:30Z"),
        ({"participants": "a@acme.com"}, "a@acme.com"),
        ({"participants": None}, None),
        ({"participants": ["a@acme.com"]}, "a@acme.com"),
        ({"thread_id": ""}, ""),
        ({"subject": 5}, 5),
        ({"kind": "letter"}, "letter"),
    ],
)
def test_communication_rejects(changes: dict[str, object], bad: object) -> None:
    fields: dict[str, object] = {"id": "m1", "occurred_at": NOW, "participants": ()}
    fields.update(changes)
    _rejects(lambda: Communication(**fields), bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Rejection


def test_rejection() -> None:
    rejection = Rejection.of("contacts.csv:3", "email is invalid", "x" * 500, record_id="c9")
    assert len(rejection.raw) < 250
    assert rejection.raw.startswith("x" * 200)
    assert rejection.to_dict() == {
        "where": "contacts.csv:3",
        "reason": "email is invalid",
        "raw": rejection.raw,
        "record_id": "c9",
    }
    assert Rejection.of("row", "why", None, record_id=7).to_dict()["record_id"] is None
    assert Rejection.of("row", "why", {"a": 1}).raw == "{'a': 1}"


# --------------------------------------------------------------------------- properties


@given(sst.accounts())
def test_generated_accounts_rebuild_equal(account: Account) -> None:
    assert Account(**attrs.asdict(account, recurse=False)) == account
    assert hash(account) == hash(attrs.evolve(account))


@given(sst.contacts())
def test_generated_contacts_rebuild_equal(contact: Contact) -> None:
    fields = attrs.asdict(contact, recurse=False)
    if isinstance(contact.email, EmailAddress):
        fields["email"] = str(contact.email)  # the string form parses back to it
    assert Contact(**fields) == contact


@given(sst.communications())
def test_generated_communications_rebuild_equal(comm: Communication) -> None:
    assert Communication(**attrs.asdict(comm, recurse=False)) == comm
    assert all(isinstance(p, Participant) for p in comm.participants)


def test_mail_headers_say_what_is_bulk() -> None:
    from stakeholder import MailHeaders

    assert not MailHeaders().is_bulk
    assert not MailHeaders().is_list
    assert MailHeaders(list_unsubscribe="<mailto:u@x.example>").is_list
    assert MailHeaders(precedence=" List ").is_bulk
    assert not MailHeaders(precedence="first-class").is_bulk
    assert not MailHeaders(auto_submitted="No").is_bulk
    assert MailHeaders(auto_submitted="auto-generated").is_bulk
    assert MailHeaders(x_auto_response_suppress="All").is_bulk
    assert MailHeaders(list_id="  ").list_id is None  # blanks are absent


def test_communication_refuses_headers_of_another_type() -> None:
    with pytest.raises(TypeError):
        Communication(
            id="m",
            occurred_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
            participants=(),
            headers={"List-Id": "x"},  # type: ignore[arg-type]
        )
