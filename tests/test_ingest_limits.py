"""Issue 17 item 8 (readers): non-regular files are refused, records and fields are
bounded with a clear rejection, memory stays flat (a 50 MB line is never held whole)."""

from __future__ import annotations

import json
import os
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from stakeholder import InputFileError
from stakeholder.ingest import (
    DEFAULT_MAX_FIELD_BYTES,
    DEFAULT_MAX_RECORD_BYTES,
    ReadLimits,
    read_accounts,
    read_communications,
    read_contacts,
)

BIG = 50 * 2**20  # a 50 MB line, written a piece at a time
MEMORY_BOUND = DEFAULT_MAX_RECORD_BYTES * 3  # what one record may cost, with room


def write_with_long_line(path: Path, head: bytes, filler: bytes, tail: bytes, size: int = BIG) -> None:
    piece = filler * (2**20 // len(filler))
    with path.open("wb") as out:
        out.write(head)
        for _ in range(size // len(piece)):
            out.write(piece)
        out.write(tail)


def peak_memory(call: Callable[[], object]) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


@pytest.mark.parametrize("reader", [read_accounts, read_contacts, read_communications])
def test_dev_zero_is_refused(reader: Callable[[str], object], tmp_path: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero on this system")
    with pytest.raises(InputFileError, match=r"not a regular file \(a character device\)"):
        reader("/dev/zero")
    link = tmp_path / "contacts.jsonl"  # a good name does not help
    link.symlink_to("/dev/zero")
    with pytest.raises(InputFileError, match="not a regular file"):
        reader(str(link))


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "mail.mbox"
    os.mkfifo(fifo)
    outcome: list[object] = []

    def attempt() -> None:
        try:
            read_communications(fifo)
        except InputFileError as exc:
            outcome.append(exc.reason)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert outcome == ["not a regular file (a FIFO): refused"]
    (tmp_path / "a.eml").write_bytes(b"Date: Tue, 02 Jan 2024 10:00:00 +0000\nFrom: a@acme.com\n\nhi\n")
    result = read_communications(tmp_path)  # in a folder: one rejection, the rest is read
    assert len(result.items) == 1
    (rejection,) = result.rejections
    assert rejection.reason == "unusable file: not a regular file (a FIFO): refused"


def test_a_50_mb_jsonl_line_is_rejected_with_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "contacts.jsonl"
    write_with_long_line(
        path,
        b'{"id": "c0", "account_id": "a"}\n{"id": "c1", "account_id": "a", "name": "',
        b"x",
        b'"}\n{"id": "c2", "account_id": "a"}\n',
    )
    result, peak = peak_memory(lambda: read_contacts(path))
    assert [c.id for c in result.items] == ["c0", "c2"]  # type: ignore[attr-defined]
    (rejection,) = result.rejections  # type: ignore[attr-defined]
    assert rejection.where == f"{path}:2"
    assert "longer than max_record_bytes" in rejection.reason
    assert peak < MEMORY_BOUND, peak


def test_a_50_mb_csv_line_is_rejected_with_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    write_with_long_line(path, b"id,name\na0,Acme\na1,", b"y", b"\na2,Globex\n")
    result, peak = peak_memory(lambda: read_accounts(path))
    assert [a.id for a in result.items] == ["a0", "a2"]  # type: ignore[attr-defined]
    (rejection,) = result.rejections  # type: ignore[attr-defined]
    assert rejection.where == f"{path}:3"
    assert peak < MEMORY_BOUND, peak


def test_a_field_over_the_limit_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "contacts.jsonl"
    name = "z" * (DEFAULT_MAX_FIELD_BYTES + 1)
    path.write_text(
        f'{{"id": "c0", "account_id": "a", "name": "{name}"}}\n{{"id": "c1", "account_id": "a"}}\n',
        encoding="utf-8",
    )
    result = read_contacts(path)
    assert [c.id for c in result.items] == ["c1"]
    (rejection,) = result.rejections
    assert rejection.reason == (
        f"field 'name' is {DEFAULT_MAX_FIELD_BYTES + 1:,} bytes, over max_field_bytes "
        f"({DEFAULT_MAX_FIELD_BYTES:,})"
    )
    small = read_contacts(path, limits=ReadLimits(max_field_bytes=10 * DEFAULT_MAX_FIELD_BYTES))
    assert len(small.items) == 2
    with pytest.raises(ValueError, match="positive integer"):
        ReadLimits(max_record_bytes=0)


def test_a_50_mb_mbox_line_keeps_memory_flat(tmp_path: Path) -> None:
    """A 50 MB body line: the message is still read (from its headers). A 50 MB header
    line: that message is rejected. The messages around them are read."""
    envelope = b"From a@acme.com Tue Jan  2 10:00:00 2024\n"

    def message(mid: bytes, extra: bytes = b"") -> bytes:
        return (envelope + b"From: a@acme.com\nDate: Tue, 02 Jan 2024 10:00:00 +0000\n"
                b"Message-ID: <" + mid + b">\n" + extra)

    path = tmp_path / "big.mbox"
    write_with_long_line(
        path,
        message(b"before@x") + b"\nhi\n\n" + message(b"body@x") + b"\n",
        b"b",
        b"\n\n" + message(b"header@x", b"Subject: "),
    )
    with path.open("ab") as out:
        for _ in range(BIG // 2**20):
            out.write(b"s" * 2**20)
        out.write(b"\n\nbody\n\n" + message(b"after@x") + b"\nbye\n")
    result, peak = peak_memory(lambda: read_communications(path))
    assert [c.id for c in result.items] == ["before@x", "body@x", "after@x"]  # type: ignore[attr-defined]
    (rejection,) = result.rejections  # type: ignore[attr-defined]
    assert rejection.reason.startswith("header")
    assert "max_" in rejection.reason
    assert peak < MEMORY_BOUND, peak


def test_a_raw_message_in_json_is_one_record_not_one_field(tmp_path: Path) -> None:
    """A raw message is bounded by the record limit; its header fields by the field
    limit; its body (a 2 MB attachment) by neither."""
    body = "A" * (2 * DEFAULT_MAX_FIELD_BYTES)
    raw = f"From: a@acme.com\nDate: Tue, 02 Jan 2024 10:00:00 +0000\nMessage-ID: <raw@x>\n\n{body}\n"
    path = tmp_path / "corpus.jsonl"
    path.write_text(json.dumps({"id": "1", "text": raw}) + "\n", encoding="utf-8")
    (comm,) = read_communications(path).items
    assert comm.id == "raw@x"
