"""Issue 11 (items 2-5, reader side): real mbox splitting, header defects, formats people
have, list headers and calendar parts; every item read, duplicated or rejected."""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import io
import lzma
import shutil
import tempfile
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stakeholder import CommKind, InputFileError, MissingDependency, Participant, Rejection, Role
from stakeholder.ingest import (
    Duplicate,
    ReadLimits,
    iter_communications,
    read_communications,
    read_contacts,
)
from stakeholder.ingest._mbox import read_lines, split_mbox
from stakeholder.testing import strategies

FIXTURES = Path(__file__).parent / "fixtures" / "mail"


def senders(comm: object) -> list[tuple[str | None, str]]:
    return [(p.name, p.address) for p in comm.participants if p.role is Role.FROM]  # type: ignore[attr-defined]


def check_counts(result: object) -> None:
    """read + duplicate + rejected = present, per file and in all."""
    files = result.files  # type: ignore[attr-defined]
    assert sum(f.read for f in files) == len(result.items)  # type: ignore[attr-defined]
    assert sum(f.duplicates for f in files) == len(result.duplicates)  # type: ignore[attr-defined]
    assert sum(f.rejected for f in files) == len(result.rejections)  # type: ignore[attr-defined]
    assert sum(f.present for f in files) == result.present  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- mbox splitting


def test_body_from_lines_and_forwarded_blocks_are_not_messages() -> None:
    result = read_communications(FIXTURES / "phantom.mbox")
    assert [c.id for c in result.items] == ["m1@acme.com", "m2@globex.com", "m3@acme.com"]
    assert result.rejections == ()  # no phantom "missing Date" message
    check_counts(result)
    (count,) = result.files  # what was not split on is counted and said
    assert count.note is not None
    assert count.note.startswith("3 line(s) starting 'From ' read as body text")
    parts = list(split_mbox(read_lines(io.BytesIO((FIXTURES / "phantom.mbox").read_bytes()).readline, 1 << 20)))
    body = parts[0].data.split(b"\n\n", 1)[1]
    # mboxrd quoting undone one level; body lines starting "From " kept as body
    assert b"\nFrom a quoted line (mboxrd)\n>From a twice-quoted line\n" in body
    assert body.startswith(b"From the paper: revenue is up.\n\nFrom there we go on.\n")
    assert b"From carol@initech.com Mon Jan  1" in parts[1].data  # the forwarded block


def mboxrd_quote(body: bytes) -> bytes:
    return b"\n".join(
        b">" + line if line.lstrip(b">").startswith(b"From ") else line
        for line in body.split(b"\n")
    )


body_lines = st.lists(
    st.one_of(
        st.sampled_from([b"From the paper:", b"From here on", b">From quoted", b">>From x",
                         b"From ", b"", b"Subject: not a header", b"From: x@y.z"]),
        st.binary(max_size=30).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" ")),
        st.text(alphabet="From abc:>\t", max_size=20).map(str.encode),
    ),
    max_size=8,
)


@settings(max_examples=40)
@given(
    messages=st.lists(st.tuples(body_lines, st.booleans()), min_size=1, max_size=6),
    quote=st.booleans(),
)
def test_splitting_a_generated_mbox_returns_exactly_the_messages_written(
    messages: list[tuple[list[bytes], bool]], quote: bool
) -> None:
    written = []
    data = io.BytesIO()
    for index, (lines, envelope_in_body) in enumerate(messages):
        body = b"\n".join(lines) + b"\n"
        if envelope_in_body and not quote:
            # an unquoted envelope-looking line inside the text, not after a blank line
            body = b"text\nFrom z@example.com Mon Jan  1 09:00:00 2024\n" + body
        if not quote:
            body = body.replace(b"\n>", b"\n ")
            body = b" " + body[1:] if body.startswith(b">") else body
        header = f"From: a@x.com\nMessage-ID: <{index}@x>\nDate: Tue, 02 Jan 2024 10:00:00 +0000\n\n"
        message = header.encode() + body
        written.append(message)
        data.write(b"From a@x.com Tue Jan  2 10:00:00 2024\n")
        data.write(header.encode() + (mboxrd_quote(body) if quote else body) + b"\n")
    data.seek(0)
    parts = list(split_mbox(read_lines(data.readline, 1 << 20)))
    assert [p.data for p in parts] == written
    assert all(not p.cut for p in parts)


def test_stdlib_mailbox_written_mbox_round_trips(tmp_path: Path) -> None:
    import mailbox

    path = tmp_path / "written.mbox"
    box = mailbox.mbox(path)
    for i in range(5):
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Date"] = "a@acme.com", "b@globex.com", "Tue, 02 Jan 2024 10:00:00 +0000"
        msg["Message-ID"] = f"<w{i}@acme.com>"
        msg.set_content(f"From the top, message {i}\nFrom: not a header\n\nFrom x Tue Jan  2 10:00:00 2024\n")
        box.add(msg)
    box.flush()
    box.close()
    result = read_communications(path)
    assert [c.id for c in result.items] == [f"w{i}@acme.com" for i in range(5)]
    assert result.rejections == ()


# --------------------------------------------------------------------------- truncation


def cut_points(data: bytes) -> list[int]:
    return sorted({*range(0, len(data), max(1, len(data) // 23)), len(data) - 1, len(data)})


def mbox_bytes() -> bytes:
    out = b""
    for i in range(4):
        out += (b"From a@acme.com Tue Jan  2 10:00:00 2024\nFrom: a@acme.com\n"
                b"Date: Tue, 02 Jan 2024 10:00:00 +0000\nMessage-ID: <t%d@x>\n\nbody %d\n\n" % (i, i))
    return out


def envelopes_in(prefix: bytes) -> int:
    """Messages started: complete envelope lines; a file cut inside its first envelope
    line holds one item (text that is not a message, rejected)."""
    found = sum(1 for line in prefix.splitlines(keepends=True)
                if line.startswith(b"From a@acme.com Tue") and line.endswith(b"\n"))
    return found or (1 if prefix.strip() else 0)


@pytest.mark.parametrize("compress", ["", ".gz", ".bz2", ".xz"])
def test_truncated_mbox_counts_every_message_that_started(tmp_path: Path, compress: str) -> None:
    data = mbox_bytes()
    packers = {"": bytes, ".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}
    for cut in cut_points(data):
        prefix = data[:cut]
        path = tmp_path / f"cut{cut}.mbox{compress}"
        packed = packers[compress](data) if compress else prefix
        if compress:  # cut the compressed stream instead: a damaged end
            packed = packed[: max(12, len(packed) * cut // max(1, len(data)))]
        path.write_bytes(packed)
        try:
            result = read_communications(path)
        except InputFileError as exc:  # nothing readable at all: said so, not silence
            reason = exc.reason
            assert compress
            assert "corrupt" in reason
            continue
        check_counts(result)
        if not compress:
            assert result.present == envelopes_in(prefix), cut
            complete = data[:cut].count(b"\n\nbody ")
            assert len(result.items) >= complete - 1


def test_truncated_files_of_every_format(tmp_path: Path) -> None:
    sources = {
        "x.eml": (FIXTURES / "newsletter.eml").read_bytes(),
        "x.jsonl": b"".join(
            b'{"id": "j%d", "occurred_at": "2024-01-02T00:00:00+00:00", "participants": []}\n' % i
            for i in range(4)
        ),
        "x.json": b"[" + b",\n".join(
            b'{"id": "j%d", "occurred_at": "2024-01-02T00:00:00+00:00", "participants": []}' % i
            for i in range(4)
        ) + b"]",
        "x.ics": (FIXTURES / "truncated.ics").read_bytes() + b"END:VEVENT\r\nEND:VCALENDAR\r\n",
        "x.LOG2401A": b"".join(
            b"=" * 73 + b"\nDate: Tue, 02 Jan 2024 10:00:00 +0000\nFrom: a@acme.com\n"
            b"Message-ID: <l%d@x>\n\nbody\n" % i for i in range(3)
        ),
    }
    starts = {"x.eml": None, "x.jsonl": b"{", "x.json": b"{", "x.ics": b"BEGIN:VEVENT",
              "x.LOG2401A": b"=" * 73}
    for name, data in sources.items():
        for cut in cut_points(data):
            path = tmp_path / f"{cut}{name}"
            path.write_bytes(data[:cut])
            marker = starts[name]
            # an .eml file is one message, even empty (rejected: "empty message file")
            expected = 1 if marker is None else data[:cut].count(marker)
            try:
                result = read_communications(path)
            except InputFileError:
                # too little to know the format, and no item started: said, not silent
                assert expected == 0 or cut < 16, (name, cut)
                continue
            check_counts(result)
            assert result.present == expected, (name, cut, result.explain())


def test_truncated_ics_is_a_rejection_and_a_note() -> None:
    result = read_communications(FIXTURES / "truncated.ics")
    assert [c.id for c in result.items] == ["t1@acme.com"]
    (cut,) = result.rejections
    assert cut.reason == "cut off: the file ends inside this VEVENT (no END:VEVENT)"
    assert cut.where.endswith("truncated.ics:9")
    (count,) = result.files
    assert (count.read, count.rejected, count.present) == (1, 1, 2)
    assert count.note == "truncated: the file has no END:VCALENDAR"


# --------------------------------------------------------------------------- headers


def test_header_defects_from_the_issue() -> None:
    result = read_communications(FIXTURES / "headers.mbox")
    check_counts(result)
    by_id = {c.id: c for c in result.items}
    assert senders(by_id["karl@x"]) == [("Karl M.Hegbloom", "karlheg@debian.org")]
    # the angle address is the address; the rest is a display name
    assert senders(by_id["promo@x"]) == [("ceo@acme.com", "promo@spam.example")]
    group = [(p.name, p.address) for p in by_id["group@x"].participants if p.role is Role.CC]
    assert group == [(None, "a@x.com"), (None, "b@y.com")]
    # a NUL inside an address is kept visible, so the address is refused, not changed
    ((_, address),) = senders(by_id["nul@x"])
    assert address == "a\\x00b@acme.com"
    assert "b@acme.com" not in [p.address for p in by_id["nul@x"].participants]
    # a malformed internal local part is a participant, not a rejected message
    assert senders(by_id["enron@x"]) == [(None, "m..schmidt@enron.com")]
    rfc = by_id["rfc2047@x"]
    assert senders(rfc) == [("Renée", "renee@acme.com")]
    assert rfc.subject == "Café à la carte"
    assert result.rejections == ()


@pytest.mark.parametrize(
    ("name", "person", "subject"),
    [
        ("shift_jis.eml", "山田 太郎", "見積もり"),
        ("iso2022jp.eml", "山田 太郎", "見積もり"),
        ("koi8r.eml", "Иван Петров", "Счёт"),
    ],
)
def test_declared_charsets_decode_names_and_subjects(name: str, person: str, subject: str) -> None:
    (comm,) = read_communications(FIXTURES / name).items
    assert senders(comm) == [(person, "sender@example.jp")]
    assert comm.subject == subject


# --------------------------------------------------------------------------- list mail, invites


def test_list_and_bulk_headers_are_captured() -> None:
    (comm,) = read_communications(FIXTURES / "newsletter.eml").items
    assert comm.headers is not None
    assert comm.headers.list_id == "Vendor news <news.vendor.example>"
    assert comm.headers.list_unsubscribe == "<mailto:unsub@vendor.example>"
    assert comm.headers.precedence == "bulk"
    assert comm.headers.is_list
    assert comm.headers.is_bulk
    (plain,) = read_communications(FIXTURES / "shift_jis.eml").items
    assert plain.headers is None


def test_a_calendar_part_in_an_email_is_a_meeting() -> None:
    pytest.importorskip("icalendar")
    (comm,) = read_communications(FIXTURES / "invite.eml").items
    assert comm.kind is CommKind.MEETING
    assert comm.id == "invite-1@acme.com"
    assert comm.thread_id == "meet-7@acme.com"
    assert comm.occurred_at == dt.datetime(2024, 1, 10, 14, tzinfo=dt.UTC)
    assert comm.subject == "Quarterly review"
    assert Participant("carol@initech.com", Role.ATTENDEE) in comm.participants
    assert Participant("jane@acme.com", Role.FROM, "Jane") in comm.participants


# --------------------------------------------------------------------------- formats


def test_maildir_reads_new_and_cur_not_tmp_and_counts_the_copy() -> None:
    result = read_communications(FIXTURES / "maildir")
    assert sorted(c.id for c in result.items) == ["md-1@acme.com", "md-2@acme.com"]
    (duplicate,) = result.duplicates
    assert isinstance(duplicate, Duplicate)
    assert duplicate.reason == "duplicate of an earlier message"
    assert duplicate.record_id == "md-1@acme.com"
    assert result.rejections == ()
    assert {f.format for f in result.files} == {"eml"}
    check_counts(result)


def test_folder_of_extensionless_and_txt_messages_is_sniffed() -> None:
    result = read_communications(FIXTURES / "rfc822-folder")
    assert [c.id for c in result.items] == ["plain-1@acme.com", "plain-2@acme.com"]
    (other,) = result.rejections
    assert other.reason == "not a mail file: unknown extension"
    assert other.where.endswith("README.md")


def test_format_override(tmp_path: Path) -> None:
    path = tmp_path / "message.dat"
    shutil.copy(FIXTURES / "newsletter.eml", path)
    assert [c.id for c in read_communications(path).items] == ["news-1@vendor.example"]  # sniffed
    assert [c.id for c in read_communications(path, format="eml").items] == ["news-1@vendor.example"]
    with pytest.raises(InputFileError, match="not an mbox"):
        read_communications(path, format="mbox")
    with pytest.raises(ValueError, match="unknown format"):
        read_communications(path, format="pst")
    assert [c.id for c in read_communications(FIXTURES / "maildir", format="maildir").items]


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_compressed_mbox(tmp_path: Path, suffix: str) -> None:
    pack = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}[suffix]
    path = tmp_path / f"box.mbox{suffix}"
    path.write_bytes(pack((FIXTURES / "phantom.mbox").read_bytes()))
    assert len(read_communications(path).items) == 3
    unnamed = tmp_path / "box"  # no extension: the bytes say what it is
    unnamed.write_bytes(path.read_bytes())
    assert len(read_communications(unnamed).items) == 3


def test_progress_is_reported(tmp_path: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    result = read_communications(FIXTURES / "phantom.mbox", progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (3, None)
    assert len(result.items) == 3
    calls.clear()
    list(iter_communications(FIXTURES / "headers.mbox", progress=lambda d, t: calls.append((d, t))))
    assert calls[-1] == (6, None)
    calls.clear()
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("id,account_id\n" + "".join(f"c{i},a\n" for i in range(2500)), encoding="utf-8")
    assert len(read_contacts(contacts, progress=lambda d, t: calls.append((d, t))).items) == 2500
    assert calls == [(1000, None), (2000, None), (2500, None)]


def test_the_reader_rejects_oversized_headers_and_keeps_big_bodies(tmp_path: Path) -> None:
    big_body = b"x" * 5000 + b"\n"
    path = tmp_path / "big.mbox"
    path.write_bytes(
        b"From a@acme.com Tue Jan  2 10:00:00 2024\nFrom: a@acme.com\n"
        b"Date: Tue, 02 Jan 2024 10:00:00 +0000\nMessage-ID: <big@x>\n\n" + big_body * 10 + b"\n"
        b"From a@acme.com Tue Jan  2 10:00:00 2024\nFrom: a@acme.com\nSubject: " + b"y" * 3000 +
        b"\nDate: Tue, 02 Jan 2024 10:00:00 +0000\nMessage-ID: <wide@x>\n\nbody\n"
    )
    result = read_communications(path, limits=ReadLimits(max_record_bytes=4096, max_field_bytes=2048))
    assert [c.id for c in result.items] == ["big@x"]  # read from its headers; body not kept
    (wide,) = result.rejections
    assert "over max_field_bytes" in wide.reason
    assert "Subject" in wide.reason
    assert isinstance(wide, Rejection)


def test_a_link_back_to_a_parent_folder_is_not_followed(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "rfc822-folder", tmp_path / "mail")
    (tmp_path / "mail" / "loop").symlink_to(tmp_path / "mail")
    result = read_communications(tmp_path / "mail")
    assert len(result.items) == 2
    assert "a link to a directory: not followed" in [r.reason for r in result.rejections]


mail_bytes = st.lists(
    st.sampled_from([
        b"From a@acme.com Tue Jan  2 10:00:00 2024\n", b"From: a@acme.com\n", b"\n",
        b"Date: Tue, 02 Jan 2024 10:00:00 +0000\n", b"Message-ID: <x@y>\n", b">From x\n",
        b"BEGIN:VCALENDAR\n", b"BEGIN:VEVENT\n", b"END:VEVENT\n", b"DTSTART:20240102T100000Z\n",
        b"=" * 73 + b"\n", b'{"id": "j", "occurred_at": "2024-01-02"}\n', b"[", b"]", b",",
        b"\x1f\x8b", b"\x00\xff", b"Content-Type: text/calendar\n",
    ]) | st.binary(max_size=20),
    max_size=25,
).map(b"".join)


@settings(max_examples=40)
@given(data=mail_bytes, name=st.sampled_from(["x.mbox", "x.eml", "x.ics", "x.json", "x.jsonl",
                                              "x.LOG2401A", "x", "x.txt"]))
def test_any_bytes_give_items_rejections_or_one_input_file_error(data: bytes, name: str) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        path = folder / name
        path.write_bytes(data)
        try:
            result = read_communications(path)
        except (InputFileError, MissingDependency):
            return
        check_counts(result)
        assert result.present == sum(f.present for f in result.files)
    finally:
        shutil.rmtree(folder)


display_names = st.text(
    alphabet=st.sampled_from(list("abcXYZ .,:;@<>()\"'\\-éö")), max_size=15
)


@settings(max_examples=60)
@given(st.lists(st.tuples(display_names, strategies.emails()), min_size=1, max_size=5))
def test_address_lists_written_by_the_stdlib_read_back(people: list[tuple[str, str]]) -> None:
    """`email.utils.formataddr` quotes what needs quoting; every address comes back, in
    order, once, with its display name (RFC 2047-encoded when not ASCII)."""
    from email.headerregistry import Address  # noqa: F401 - the stdlib side of the check
    from email.utils import formataddr

    from stakeholder.ingest._headers import parse_addresses

    text = ", ".join(formataddr((name, address)) for name, address in people)
    got = parse_addresses(text)
    unique: dict[str, str] = {}
    for name, address in people:
        unique.setdefault(address.lower(), name)
    assert [a.lower() for _, a in got] == list(unique)
    for (name, _), wanted in zip(got, unique.values(), strict=True):
        shown = " ".join(wanted.split()).strip("'\" ")
        assert (name or "") == shown or not shown.strip(), (text, name, wanted)
