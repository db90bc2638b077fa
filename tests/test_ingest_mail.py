"""Mail readers: messages, mbox / eml / LISTSERV / JSON / iCalendar files to
`Communication`, with rejections instead of exceptions."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import gzip
import json
import sys
from email.message import Message
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stakeholder import (
    CommKind,
    Communication,
    InputFileError,
    InvalidRecord,
    MissingDependency,
    Participant,
    Rejection,
    Role,
)
from stakeholder.ingest import (
    Duplicate,
    communication_from_dict,
    communication_from_message,
    communication_to_dict,
    iter_communications,
    read_communications,
)
from stakeholder.ingest._headers import _general_addresses, _simple_addresses, parse_addresses
from stakeholder.testing import strategies

MESSAGE = b"""\
From: "Doe, Jane" <Jane.Doe@Acme.com>
To: Bob <bob@globex.com>, carol@initech.com
Cc: =?utf-8?q?Ren=C3=A9e_Z?= <renee@acme.com>
Bcc: hidden@acme.com
Date: Tue, 02 Jan 2024 10:00:00 +0200
Subject: =?utf-8?b?UXVvdGUgZm9yIEfDtnRlYm9yZw==?=
Message-ID: <m3@acme.com>
In-Reply-To: <m2@globex.com>
References: <m1@acme.com> <m2@globex.com>

Body is never needed.
"""


def parse(data: bytes) -> Message:
    return email.message_from_bytes(data, policy=email.policy.compat32)


def message(**headers: str) -> bytes:
    base = {"From": "a@acme.com", "To": "b@globex.com", "Date": "Tue, 02 Jan 2024 10:00:00 +0000",
            "Message-ID": "<x@acme.com>", "Subject": "hello"}
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    lines = [f"{k}: {v}" for k, v in base.items() if v is not None]
    return ("\n".join(lines) + "\n\nbody\n").encode("utf-8")


def test_headers_become_a_communication() -> None:
    comm = communication_from_message(parse(MESSAGE), where="test")
    assert comm.id == "m3@acme.com"
    assert comm.thread_id == "m1@acme.com"  # the root of References
    assert comm.occurred_at == dt.datetime(2024, 1, 2, 8, tzinfo=dt.UTC)
    assert comm.occurred_at.utcoffset() == dt.timedelta(hours=2)
    assert comm.subject == "Quote for Göteborg"
    assert comm.kind is CommKind.EMAIL
    assert comm.participants == (
        Participant("Jane.Doe@Acme.com", Role.FROM, "Doe, Jane"),
        Participant("bob@globex.com", Role.TO, "Bob"),
        Participant("carol@initech.com", Role.TO, None),
        Participant("renee@acme.com", Role.CC, "Renée Z"),
        Participant("hidden@acme.com", Role.BCC, None),
    )


def test_thread_id_falls_back_to_in_reply_to_then_own_id() -> None:
    reply = communication_from_message(parse(message(In_Reply_To="<root@x> <other@x>")))
    assert reply.thread_id == "root@x"
    alone = communication_from_message(parse(message()))
    assert alone.thread_id == alone.id == "x@acme.com"
    bare = communication_from_message(parse(message(Message_ID="  no-brackets@x  ")))
    assert bare.id == bare.thread_id == "no-brackets@x"


def test_missing_message_id_gets_a_deterministic_content_hash() -> None:
    data = message(Message_ID=None)  # type: ignore[arg-type]
    first = communication_from_message(parse(data))
    second = communication_from_message(parse(data))
    other = communication_from_message(parse(message(Message_ID=None, Subject="other")))  # type: ignore[arg-type]
    assert first.id == second.id
    assert first.id.startswith("sha256:")
    assert len(first.id) == len("sha256:") + 32
    assert other.id != first.id
    assert first.thread_id == first.id


def test_dates_without_zone_are_utc_and_bad_dates_raise_with_reason() -> None:
    naive = communication_from_message(parse(message(Date="Tue Jun  1 17:46:44 2004")))
    assert naive.occurred_at == dt.datetime(2004, 6, 1, 17, 46, 44, tzinfo=dt.UTC)
    minus_zero = communication_from_message(parse(message(Date="Tue, 1 Jun 2004 10:00:00 -0000")))
    assert minus_zero.occurred_at.utcoffset() == dt.timedelta(0)
    with pytest.raises(InvalidRecord, match="unparsable Date") as info:
        communication_from_message(parse(message(Date="the day after tomorrow")), where="f:1")
    assert "f:1" in info.value.reason
    with pytest.raises(InvalidRecord, match="missing Date"):
        communication_from_message(parse(message(Date=None)))  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match="unparsable Date"):
        communication_from_message(parse(message(Date="Mon, 32 Jan 2002 00:00:00 +0000")))


def test_works_with_the_modern_email_policy_too() -> None:
    modern = email.message_from_bytes(MESSAGE, policy=email.policy.default)
    assert communication_from_message(modern) == communication_from_message(parse(MESSAGE))


def test_hostile_headers_never_raise() -> None:
    cases = [
        message(From="x" * 10_000 + "@acme.com", Subject="s" * 10_000),
        message(Subject="ctrl\x01\x02\x7f chars\x00", From="Evil\x07 <a@b.com>"),
        message(To="undisclosed-recipients:;", Cc=""),
        message(From="=?utf-8?b?!!!notbase64?= <a@b.com>", Subject="=?bogus-charset?q?x?="),
        message(From="<<<>>>", To=",,,;;;", Cc="@, @@, a@"),
        message(Subject="Robert'); DROP TABLE comms;--"),
        message(From="Jörg Müller <jörg@bücher.de>", To='"Ünï" <x@аpple.com>'),
        b"From: \xff\xfe Caf\xe9 <cafe@acme.com>\nSubject: Caf\xe9 \xe0 la carte\n"
        b"Date: Tue, 02 Jan 2024 10:00:00 +0000\nMessage-ID: <latin@x>\n\nbody\n",
        b"From: J\xc3\xa9r\xc3\xb4me <j@acme.com>\nDate: Tue, 02 Jan 2024 10:00:00 +0000\n\n",
    ]
    for data in cases:
        comm = communication_from_message(parse(data))
        assert "\x00" not in comm.subject
        assert all(ord(c) >= 32 for c in comm.subject)
    idn = communication_from_message(parse(cases[6]))
    assert [(p.name, p.address) for p in idn.participants] == [
        ("Jörg Müller", "jörg@bücher.de"), ("Ünï", "x@аpple.com")  # look-alikes kept as written
    ]
    cases.pop(6)
    latin = communication_from_message(parse(cases[6]))
    assert latin.subject == "Café à la carte"
    assert latin.participants[0].address == "cafe@acme.com"
    utf8 = communication_from_message(parse(cases[7]))
    assert utf8.participants[0].name == "Jérôme"
    empty_group = communication_from_message(parse(cases[2]))
    assert [p.role for p in empty_group.participants] == [Role.FROM]


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    chunks = [b"From sender@example.com Tue Jan  2 10:00:00 2024\n" + m + b"\n" for m in messages]
    data = b"".join(chunks)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


@pytest.mark.parametrize("name", ["box.mbox", "box.mbox.gz", "archive.txt"])
def test_mbox_every_message_ingested_or_rejected(tmp_path: Path, name: str) -> None:
    messages = [
        message(Message_ID="<1@x>"),
        message(Message_ID="<2@x>", Date="garbage"),
        message(Message_ID="<1@x>", Subject="same id again"),
        message(Message_ID="<3@x>", References="<1@x>"),
        b"X-Junk: \xff\xfe\x00binary garbage without a date\n",
    ]
    path = write_mbox(tmp_path / name, messages)
    result = read_communications(path)
    assert result.present == len(messages)
    assert [c.id for c in result.items] == ["1@x", "3@x"]
    assert result.items[1].thread_id == "1@x"
    reasons = [r.reason for r in result.rejections]
    assert "unparsable Date" in reasons[0]
    assert "missing Date" in reasons[1]
    (duplicate,) = result.duplicates
    assert isinstance(duplicate, Duplicate)
    assert (duplicate.reason, duplicate.record_id) == ("duplicate of an earlier message", "1@x")
    (count,) = result.files
    assert (count.read, count.duplicates, count.rejected, count.format) == (2, 1, 2, "mbox")
    # where points at the "From " separator line of each message
    lines = (gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes())
    starts = [i for i, line in enumerate(lines.splitlines(), 1) if line.startswith(b"From ")]
    assert [r.where for r in result.rejections] == [f"{path}:{starts[i]}" for i in (1, 4)]
    assert duplicate.where == f"{path}:{starts[2]}"


def test_iter_communications_is_lazy(tmp_path: Path) -> None:
    messages = [message(Message_ID=f"<{i}@x>") for i in range(5000)]
    padding = b"a body line of some length\n" * 40  # about 5 MB in all: several blocks
    data = b"".join(b"From x Tue Jan  2 10:00:00 2024\n" + m + padding for m in messages)
    path = tmp_path / "cut.mbox.gz"
    path.write_bytes(gzip.compress(data)[:-200])  # truncated: the end is unreadable
    stream = iter_communications(path)
    first = next(stream)
    assert isinstance(first, Communication)
    assert first.id == "0@x"
    *read, last = list(stream)
    assert all(isinstance(item, Communication) for item in read)
    # the message the damaged end cut is a rejection, not an exception or a loss
    assert isinstance(last, Rejection)
    assert last.reason.startswith("cut off: the file ends early (corrupt")


def test_eml_files_and_directories(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.eml").write_bytes(message(Message_ID="<a@x>"))
    (folder / "sub" / "b.eml").write_bytes(message(Message_ID="<b@x>", Date="nope"))
    (folder / "c.eml").write_bytes(message(Message_ID="<a@x>"))
    (folder / "empty.eml").write_bytes(b"")
    (folder / "notes.pdf").write_bytes(b"%PDF")
    single = read_communications(folder / "a.eml")
    assert [c.id for c in single.items] == ["a@x"]
    result = read_communications(folder)
    assert [c.id for c in result.items] == ["a@x"]
    got = {Path(r.where.rsplit(":", 1)[0]).name if r.where.endswith(":1") else Path(r.where).name:
           r.reason for r in result.rejections}
    assert [d.where for d in result.duplicates] == [f"{folder / 'c.eml'}:1"]
    assert got["empty.eml"] == "empty message file"
    assert got["notes.pdf"] == "not a mail file: unknown extension"
    assert "unparsable Date" in got["b.eml"]
    assert len(result.rejections) == 3


def test_listserv_logs(tmp_path: Path) -> None:
    sep = b"=" * 73 + b"\r\n"
    first = (b"Date:         Tue, 10 Oct 2017 14:57:51 +0000\r\nReply-To:     k@bt.com\r\n"
             b"From:         Kevin Holley <kevin.holley@BT.COM>\r\nSubject:      Re: ids\r\n"
             b"Comments: To: stephen.hayes@ERICSSON.COM, toon.norp@TNO.NL\r\n"
             b"Message-ID:  <k1@bt.com>\r\n\r\nbody\r\n")
    second = b"Reply-To: x@y.com\r\nSubject: no date\r\n\r\nbody\r\n"
    path = tmp_path / "LIST.LOG1710B"
    path.write_bytes(sep + first + sep + second)
    result = read_communications(path)
    (comm,) = result.items
    assert comm.participants == (
        Participant("kevin.holley@BT.COM", Role.FROM, "Kevin Holley"),
        Participant("stephen.hayes@ERICSSON.COM", Role.TO),
        Participant("toon.norp@TNO.NL", Role.TO),
    )
    (rejection,) = result.rejections
    assert rejection.reason == "missing Date header"
    assert rejection.where == f"{path}:10"  # the separator line before it


def test_jsonl_holds_dicts_or_raw_messages(tmp_path: Path) -> None:
    comm = Communication(
        id="c1", occurred_at=dt.datetime(2024, 1, 2, tzinfo=dt.UTC),
        participants=[Participant("a@acme.com", Role.FROM, "A")], subject="hi",
    )
    lines = [
        json.dumps(communication_to_dict(comm)),
        json.dumps({"id": "00001", "group": "ham", "text": message(Message_ID="<r@x>").decode()}),
        json.dumps({"id": "c2", "participants": []}),
        json.dumps({"id": "c3", "occurred_at": "2024-01-02", "participants": "a@b.c"}),
        json.dumps({"id": "c4", "occurred_at": "2024-01-02", "participants": [{"name": "x"}]}),
        json.dumps({"id": "c5", "occurred_at": "2024-01-02", "kind": "fax"}),
        "{not json",
        json.dumps(["a list"]),
        json.dumps(communication_to_dict(comm)),
    ]
    path = tmp_path / "comms.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_communications(path)
    assert [c.id for c in result.items] == ["c1", "r@x"]
    assert result.items[0] == comm
    reasons = [r.reason for r in result.rejections]
    assert len(result.items) + len(reasons) + len(result.duplicates) == len(lines)
    assert reasons[0] == "missing occurred_at"
    assert reasons[1] == "participants must be a list"
    assert reasons[2] == "a participant must be an object with an address"
    assert "expected one of email, meeting, call" in reasons[3]
    assert "invalid JSON" in reasons[4]
    assert "expected a JSON object" in reasons[5]
    (duplicate,) = result.duplicates
    assert (duplicate.reason, duplicate.record_id) == ("duplicate of an earlier message", "c1")
    assert duplicate.where == f"{path}:9"
    array = tmp_path / "comms.json"
    array.write_text(json.dumps([communication_to_dict(comm)]), encoding="utf-8")
    assert read_communications(array).items == (comm,)


@given(strategies.communications())
def test_dict_round_trip(comm: Communication) -> None:
    data = communication_to_dict(comm)
    assert communication_from_dict(json.loads(json.dumps(data))) == comm


def test_from_dict_defaults_and_naive_time() -> None:
    comm = communication_from_dict(
        {"id": "c1", "occurred_at": "2024-01-02T03:04:05", "participants": [{"address": "a@b.c"}]}
    )
    assert comm.occurred_at == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert comm.participants == (Participant("a@b.c", Role.TO, None),)
    assert (comm.thread_id, comm.subject, comm.kind) == (None, "", CommKind.EMAIL)
    bad: object
    for bad in ([], {"id": "", "occurred_at": "2024-01-01"}, {"id": "x", "occurred_at": 5},
                {"id": "x", "occurred_at": "soon"}, {"id": "a\x00", "occurred_at": "2024-01-01"}):
        with pytest.raises(InvalidRecord):
            communication_from_dict(bad)  # type: ignore[arg-type]


ICS = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:meet-1@acme.com
DTSTART;TZID=Europe/Paris:20240102T100000
DTEND;TZID=Europe/Paris:20240102T110000
SUMMARY:Quarterly review
ORGANIZER;CN="Doe, Jane":mailto:jane@acme.com
ATTENDEE;CN=Bob;ROLE=REQ-PARTICIPANT:MAILTO:bob@globex.com
ATTENDEE:mailto:carol@initech.com
END:VEVENT
BEGIN:VEVENT
UID:meet-2@acme.com
DTSTART;VALUE=DATE:20240105
SUMMARY:All-day workshop
ORGANIZER:mailto:jane@acme.com
END:VEVENT
BEGIN:VEVENT
UID:meet-3@acme.com
SUMMARY:No start
END:VEVENT
BEGIN:VEVENT
UID:meet-1@acme.com
DTSTART:20240103T100000
SUMMARY:Same uid, no recurrence id
END:VEVENT
END:VCALENDAR
"""


def test_icalendar_invites_become_meetings(tmp_path: Path) -> None:
    path = tmp_path / "invites.ics"
    path.write_text(ICS.replace("\n", "\r\n"), encoding="utf-8")
    result = read_communications(path)
    review, workshop = result.items
    assert review.kind is CommKind.MEETING
    assert review.id == review.thread_id == "meet-1@acme.com"
    assert review.subject == "Quarterly review"
    assert review.occurred_at == dt.datetime(2024, 1, 2, 9, tzinfo=dt.UTC)
    assert review.participants == (
        Participant("jane@acme.com", Role.ORGANIZER, "Doe, Jane"),
        Participant("bob@globex.com", Role.ATTENDEE, "Bob"),
        Participant("carol@initech.com", Role.ATTENDEE, None),
    )
    assert workshop.occurred_at == dt.datetime(2024, 1, 5, tzinfo=dt.UTC)
    (missing,) = result.rejections
    assert missing.reason == "missing DTSTART"
    assert missing.where == f"{path}:19"  # its BEGIN:VEVENT line
    (duplicate,) = result.duplicates
    assert duplicate.reason == "duplicate of an earlier message"
    assert duplicate.record_id == "meet-1@acme.com"
    assert result.files[0].present == 4


def test_icalendar_garbage_and_missing_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    garbage = tmp_path / "bad.ics"
    garbage.write_bytes(b"this is not a calendar")
    with pytest.raises(InputFileError, match="not iCalendar"):
        read_communications(garbage)
    good = tmp_path / "good.ics"
    good.write_text(ICS, encoding="utf-8")
    monkeypatch.setitem(sys.modules, "icalendar", None)
    with pytest.raises(MissingDependency) as info:
        read_communications(good)
    assert info.value.extra == "calendar"
    assert "stakeholder[calendar]" in str(info.value)


@pytest.mark.parametrize("path", [None, 5, "", "a\x00b.mbox"])
def test_what_is_not_a_path_is_an_input_file_error(path: object) -> None:
    with pytest.raises(InputFileError, match="not a file path"):
        read_communications(path)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("missing.mbox", None, "no such file"),
        ("mail.pdf", b"%PDF", "unknown extension"),
        ("noext", b"From x\n", "unknown extension"),
        ("garbage.mbox", bytes(range(1, 256)) * 40, "not an mbox"),
        ("notes.txt", b"just some notes\n", "unknown extension '.txt' and content"),
        ("bad.mbox.gz", b"\x1f\x8bnot gzip at all", "corrupt"),
        ("latin1.jsonl", '{"id": "caf\u00e9"}\n'.encode("latin-1"), "not UTF-8"),
        ("garbage.LOG2001A", b"no separator here\n", "not a LISTSERV log"),
    ],
)
def test_unusable_mail_files_raise_input_file_error(
    tmp_path: Path, name: str, content: bytes | None, reason: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputFileError) as info:
        read_communications(path)
    assert reason in info.value.reason


@pytest.mark.parametrize("name", ["empty.mbox", "empty.mbox.gz", "empty.jsonl", "empty.LOG2001A"])
def test_empty_files_hold_no_messages(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(gzip.compress(b"") if name.endswith(".gz") else b"")
    assert read_communications(path).items == ()
    assert read_communications(path).rejections == ()


def test_garbage_message_in_an_eml_is_a_rejection(tmp_path: Path) -> None:
    path = tmp_path / "x.eml"
    path.write_bytes(bytes(range(1, 256)) * 40)
    result = read_communications(path)
    assert result.items == ()
    (rejection,) = result.rejections
    assert isinstance(rejection, Rejection)
    assert rejection.reason == "missing Date header"


simple_names = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz .'-", max_size=20)


@given(st.lists(st.tuples(simple_names, strategies.emails(), st.sampled_from(["quoted", "plain", "bare", "pipermail", "comment"])), min_size=1, max_size=6))
def test_plain_address_lists_fast_path_agrees_with_the_general_parser(
    entries: list[tuple[str, str, str]],
) -> None:
    parts = []
    for name, address, form in entries:
        if form == "pipermail":
            parts.append(f"{address.replace('@', ' at ')} ({name})")
        elif form == "comment":
            parts.append(f"{address} ({name})")
        elif form == "quoted":
            parts.append(f'"{name}" <{address}>')
        elif form == "plain":
            parts.append(f"{name} <{address}>")
        else:
            parts.append(address)
    text = ", ".join(parts)
    fast = _simple_addresses(text)
    if fast is not None:
        assert fast == _general_addresses(text)
    assert parse_addresses(text) == (fast if fast is not None else _general_addresses(text))
