"""Real mail from ../shared/data/mail: every message is ingested or rejected with a
reason, counted independently of the reader; address-header edge cases from the data."""

from __future__ import annotations

import email
import email.policy
import gzip
import itertools
import json
import mailbox
import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from conftest import shared_data
from stakeholder import Communication, EmailAddress, InvalidEmail, Rejection
from stakeholder.ingest import ReadResult, communication_from_message, read_communications
from stakeholder.ingest._headers import _general_addresses, _simple_addresses

LISTSERV_SEPARATOR = re.compile(rb"^={73}\r?$", re.MULTILINE)


def check_every_message_accounted_for(result: ReadResult[Communication], expected: int) -> None:
    assert len(result.items) + len(result.rejections) + len(result.duplicates) == expected
    assert sum(f.present for f in result.files) == expected
    for duplicate in result.duplicates:
        assert duplicate.reason == "duplicate of an earlier message"
        assert duplicate.record_id in {c.id for c in result.items}
    ids = [c.id for c in result.items]
    assert len(ids) == len(set(ids)), "kept ids are unique"
    for comm in result.items:
        assert comm.occurred_at.utcoffset() is not None
        assert comm.thread_id
    for rejection in result.rejections:
        assert isinstance(rejection, Rejection)
        assert rejection.reason
        assert rejection.where


def header_id(value: object) -> str:
    """A Message-ID as the data writes it: inside its first <...>, white space collapsed
    (some ids are folded over two lines, some carry a trailing comment)."""
    text = str(value or "")
    match = re.search(r"<([^<>]+)>", text)
    return " ".join((match.group(1) if match else text).split())


def stdlib_ids(messages: Iterator[email.message.Message]) -> set[str]:
    return {header_id(msg.get("Message-ID")) for msg in messages if msg.get("Message-ID")}


def check_ids_come_from_the_messages(result: ReadResult[Communication], ids: set[str]) -> None:
    for comm in result.items:
        assert comm.id in ids or comm.id.startswith("sha256:"), comm.id


def count_lines_starting_with_from(path: Path) -> int:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as f:
        return sum(1 for line in f if line.startswith(b"From "))


ASCTIME_ENVELOPE = re.compile(
    rb"From .+? +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
    rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}\r?\n"
)


def count_envelopes(path: Path) -> tuple[int, int]:
    """(real messages, body lines starting with 'From '), counted apart from the reader:
    a strict asctime envelope line followed by a header line is a message; any other
    line starting 'From ' is body text (the stdlib splits on it: a phantom message)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    real = body = 0
    with opener(path, "rb") as f:
        previous = b""
        for line in f:
            if previous.startswith(b"From "):
                if ASCTIME_ENVELOPE.fullmatch(previous) and re.match(rb"[\w-]+: ", line):
                    real += 1
                else:
                    body += 1
            previous = line
    return real, body


def test_spamassassin_corpus() -> None:
    path = shared_data("mail", "spamassassin", "spamassassin_public_corpus.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    result = read_communications(path)
    check_every_message_accounted_for(result, len(records))
    raw = [email.message_from_string(r["text"], policy=email.policy.compat32) for r in records]
    check_ids_come_from_the_messages(result, stdlib_ids(iter(raw)))
    # every message whose Date the stdlib can read is kept, unless it repeats a Message-ID
    readable = 0
    for msg in raw:
        try:
            if email.utils.parsedate_to_datetime(str(msg["Date"])) is not None:
                readable += 1
        except (TypeError, ValueError):
            pass
    assert len(result.items) == readable - len(result.duplicates)
    # the fast path for plain address lists agrees with the general parser on real headers
    checked = 0
    for msg in raw:
        for key, value in msg.raw_items():
            if key.lower() in ("from", "to", "cc", "bcc") and isinstance(value, str):
                text = " ".join(value.split())
                fast = _simple_addresses(text)
                if fast is not None:
                    assert fast == _general_addresses(text), text
                    checked += 1
    assert checked > 0


@pytest.mark.parametrize(
    "name",
    ["3GPP_mbox/3GPP_TSG_SA_WG4_EVS.mbox", "3GPP_mbox/3GPP_TSG_RAN_WG4_NR-MIMO-OTA.mbox",
     "2001-November.txt"],
)
def test_3gpp_mbox_files(name: str) -> None:
    path = shared_data("mail", "3gpp", *name.split("/"))
    box = mailbox.mbox(path, create=False)
    try:
        messages = [box.get_message(key) for key in box.iterkeys()]
    finally:
        box.close()
    result = read_communications(path)
    real, body = count_envelopes(path)
    assert len(messages) == count_lines_starting_with_from(path) == real + body
    check_every_message_accounted_for(result, real)
    check_ids_come_from_the_messages(result, stdlib_ids(iter(messages)))
    # a Message-ID seen before is a duplicate: the data says how many there are
    seen: set[str] = set()
    repeated = 0
    for msg in messages:
        value = header_id(msg.get("Message-ID"))
        if value and value in seen and msg.get("Date"):
            repeated += 1
        seen.add(value)
    assert len(result.duplicates) == repeated


def test_3gpp_listserv_logs() -> None:
    root = shared_data("mail", "3gpp", "3GPP")
    logs = sorted(p for p in root.rglob("*") if re.search(r"\.LOG\d{4}[A-Z]?$", p.name))
    assert logs
    total = 0
    for path in logs:
        expected = len(LISTSERV_SEPARATOR.findall(path.read_bytes()))
        result = read_communications(path)
        check_every_message_accounted_for(result, expected)
        total += expected
    # the whole folder: every log message plus one rejection per non-mail file
    others = [p for p in root.rglob("*") if p.is_file() and p not in logs]
    whole = read_communications(root)
    assert len(whole.items) + len(whole.rejections) == total + len(others)
    unknown = [r for r in whole.rejections if r.reason == "not a mail file: unknown extension"]
    assert sorted(r.where for r in unknown) == sorted(str(p) for p in others)


def test_3gpp_senders_are_real_corporate_addresses() -> None:
    path = shared_data("mail", "3gpp", "3GPP_mbox", "3GPP_TSG_SA_WG4_EVS.mbox")
    result = read_communications(path)
    for comm in result.items:
        senders = [p for p in comm.participants if p.role == "from"]
        assert len(senders) == 1
        EmailAddress.parse(senders[0].address)  # every sender parses


@pytest.mark.parametrize("name", ["r-sig-finance.mbox.gz", "r-sig-geo.mbox.gz"])
def test_r_lists(name: str) -> None:
    path = shared_data("mail", "r-lists", name)
    expected, body = count_envelopes(path)
    assert body > 0  # body lines starting "From " that the stdlib would split on
    result = read_communications(path)
    check_every_message_accounted_for(result, expected)
    assert not result.rejections  # no phantom "missing Date" message
    for comm in result.items:
        assert any(p.role == "from" for p in comm.participants) or not comm.participants
    # pipermail hides "@" as " at ": the senders come back as addresses
    with_sender = [c for c in result.items if any(p.role == "from" for p in c.participants)]
    assert len(with_sender) > 0.99 * len(result.items)
    for comm in with_sender[:2000]:
        sender = next(p for p in comm.participants if p.role == "from")
        assert "@" in sender.address
        assert " at " not in sender.address
    # the fast path for archive From headers agrees with the general parser
    with gzip.open(path, "rb") as f:
        from_lines = (x for x in f if x.startswith(b"From: "))
        headers = [line.decode("utf-8", "replace")[6:].strip()
                   for line in itertools.islice(from_lines, 3000)]
    fast_checked = 0
    for header in headers:
        text = " ".join(header.split())
        fast = _simple_addresses(text)
        if fast is not None:
            assert fast == _general_addresses(text), text
            fast_checked += 1
    assert fast_checked > 0.9 * len(headers)
    # threads: every reply that names a parent is threaded under some message id
    threaded = sum(c.thread_id != c.id for c in result.items)
    assert threaded > 0


def from_header(value: str) -> list[tuple[str | None, str]]:
    data = (
        f"From: {value}\nDate: Tue, 02 Jan 2024 10:00:00 +0000\nMessage-ID: <x@y>\n\n"
    ).encode()
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    comm = communication_from_message(msg)
    return [(p.name, p.address) for p in comm.participants]


def test_from_header_variations() -> None:
    """Each line is ``address (Name)`` or ``"Name" <address>``, with ``@`` written as
    `` at `` by pipermail; addresses cut with ``....`` are kept as written (routing sets
    them aside as invalid)."""
    path = shared_data("mail", "3gpp", "from-header-variations.txt")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    assert lines
    for line in lines:
        angle = re.fullmatch(r'"?(?P<name>[^"<]*?)"?\s*<(?P<addr>[^>]+)>', line)
        comment = re.fullmatch(r"(?P<addr>\S+(?: at \S+)?)(?: \((?P<name>.*)\))?", line)
        match = angle or comment
        assert match, line
        address = match.group("addr").replace(" at ", "@")
        name = match.group("name")
        ((got_name, got_address),) = from_header(line)
        assert got_address == address, line
        if name:
            expected = str(make_header(decode_header(name.replace(" at ", "@"))))
            assert got_name in (expected, name), line
        else:
            assert got_name is None, line
        if not address.endswith("...."):
            assert EmailAddress.parse(got_address).domain == address.split("@")[1].lower()


def read_address_yaml(path: Path) -> list[tuple[str, list[list[str | None]], bool]]:
    """The small YAML subset of address_header_test_file.yaml (no YAML library here):
    a quoted key per header, then ``- value`` items, or ``- N:`` groups of items
    (then nested is true)."""

    def scalar(text: str) -> str | None:
        text = text.strip()
        if text == "null":
            return None
        if text.startswith("'") and text.endswith("'"):
            return text[1:-1].replace("''", "'")
        return text

    cases: list[tuple[str, list[list[str | None]], bool]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        if line.startswith("'") and line.endswith(":"):
            cases.append((scalar(line[:-1]) or "", [], False))
        elif re.fullmatch(r"\s+- \d+:", line):
            cases[-1][1].append([])
            cases[-1] = (cases[-1][0], cases[-1][1], True)
        elif line.lstrip().startswith("- "):
            value = scalar(line.lstrip()[2:])
            expected = cases[-1][1]
            if line.startswith("    ") and expected:
                expected[-1].append(value)
            else:
                if not expected or len(expected[-1]) == 3:
                    expected.append([])
                expected[-1].append(value)
    return cases


def test_address_header_cases() -> None:
    """Each case: a header and [display name, local part, domain] (names lower-cased by
    the data's authors; all null = no address in it); a header with several addresses
    lists [address, local part, domain] for each."""
    path = shared_data("mail", "3gpp", "address_header_test_file.yaml")
    cases = read_address_yaml(path)
    assert cases
    for header, expected, nested in cases:
        got = from_header(header)
        wanted = [e for e in expected if e[1] is not None]
        assert len(got) == len(wanted), header
        for (name, address), (want_name, local, domain) in zip(got, wanted, strict=True):
            parsed = EmailAddress.parse(address)
            assert (parsed.local, parsed.domain) == (local, domain), header
            if nested:
                assert address.lower() == want_name, header
            elif want_name is None:
                assert name is None, header
            else:
                assert name is not None, header
                try:
                    decoded = str(make_header(decode_header(want_name)))
                except Exception:
                    decoded = want_name
                assert name.lower() in (want_name.lower(), decoded.lower()), header
        for name, address in got:
            if not wanted:
                with pytest.raises(InvalidEmail):
                    EmailAddress.parse(address)
            del name
