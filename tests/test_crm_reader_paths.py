"""Property: the contacts reader's fast path (a reader made once per column set, for rows
whose fields each come from one column) reads exactly what the general path reads, for
well-formed and malformed rows alike: duplicate and 15/18-character ids, bad emails and
phones, missing or unknown accounts, NUL characters, unreadable dates."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stakeholder.crm import FieldMap, _contacts, crm_contacts_from_records, read_crm_contacts

FIELD_MAP = FieldMap.salesforce().with_fields(contact_phone="Phone")
COLUMNS = ("Id", "AccountId", "Email", "Phone", "FirstName", "LastName", "Name", "Title",
           "CreatedDate")
KNOWN = {"a0", "a1", "001A000001AbCdEIAV"}
EXCLUDED = {"a2"}


def _cell(values: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.just(""), st.sampled_from(values))


contact_rows = st.fixed_dictionaries(
    {
        "Id": _cell(["c0", "c1", "c2", "003A000001AbCdE", "003A000001AbCdEIAV", "c\x00"]),
        "AccountId": _cell(["a0", "a1", "a2", "a9", "001A000001AbCdE", "a\x00"]),
        "Email": _cell(["jo@acme.example", "Al <al@globex.example>", "nope", "JO@Acme.Example"]),
        "Phone": _cell(["+44 20 7946 0018", "+44 20 7946 0018 ext 5", "12", "1-800-FLOWERS"]),
        "FirstName": _cell(["Jo", "Al"]),
        "LastName": _cell(["Doe"]),
        "Name": _cell(["Jo Doe"]),
        "Title": _cell(["CFO"]),
        "CreatedDate": _cell(["2020-01-02T03:04:05+00:00", "01/02/2020", "yesterday"]),
    }
).filter(lambda row: any(row.values()))  # a blank CSV line is skipped


def _view(read: Any) -> tuple[Any, ...]:
    return (read, dict(read.details))


def _read_both(read: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    fast = _view(read())
    with monkeypatch.context() as patch:
        patch.setattr(_contacts, "_plain_reader", lambda *args: None)
        general = _view(read())
    return fast, general


_PLAIN = {"Id": "c0", "AccountId": "a0", "Email": "jo@acme.example", "Phone": "",
          "FirstName": "Jo", "LastName": "", "Name": "", "Title": "", "CreatedDate": ""}


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(contact_rows, max_size=12), omit=st.booleans())
@example(rows=[_PLAIN, {**_PLAIN, "Id": "c1", "AccountId": "a2", "Title": "CFO"},
               {**_PLAIN, "Id": "c2", "FirstName": ""}], omit=False)
@example(rows=[_PLAIN, {**_PLAIN, "Email": "nope"}, {**_PLAIN, "Id": "c1"}], omit=True)
def test_fast_path_reads_what_the_general_path_reads(
    rows: list[dict[str, str]], omit: bool
) -> None:
    records = [{k: v for k, v in r.items() if v} for r in rows] if omit else rows
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, general = _read_both(
            lambda: crm_contacts_from_records(
                records, FIELD_MAP, KNOWN, excluded_account_ids=EXCLUDED
            ),
            monkeypatch,
        )
        assert fast == general
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "Contact.csv"
            with path.open("w", encoding="utf-8", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=COLUMNS)
                writer.writeheader()
                writer.writerows(r for r in rows if "\x00" not in "".join(r.values()))
            fast, general = _read_both(
                lambda: read_crm_contacts(path, FIELD_MAP, KNOWN, excluded_account_ids=EXCLUDED),
                monkeypatch,
            )
        assert fast == general


def test_the_fast_path_is_taken_for_plain_columns(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The property above compares something: plain columns do get a fast reader, for
    records (by column name) and for a CSV file (by position)."""
    made: list[tuple[bool, object]] = []
    real = _contacts._plain_reader

    def spy(built: Any, columns: Any, positions: Any = None) -> Any:
        reader = real(built, columns, positions)
        if columns["contact_id"]:  # not the empty header of in-memory records
            made.append((positions is not None, reader))
        return reader

    monkeypatch.setattr(_contacts, "_plain_reader", spy)
    row = {"Id": "c1", "AccountId": "a0", "Email": "jo@acme.example",
           "Phone": "+44 20 7946 0018", "FirstName": "Jo", "LastName": "Doe"}
    read = crm_contacts_from_records([row], FIELD_MAP, KNOWN)
    path = tmp_path / "Contact.csv"
    path.write_text(",".join(row) + "\n" + ",".join(row.values()) + "\n", encoding="utf-8")
    from_file = read_crm_contacts(path, FIELD_MAP, KNOWN)
    assert [c.name for c in read.contacts] == ["Jo Doe"]
    assert from_file.contacts == read.contacts
    assert [by_position for by_position, _ in made] == [False, True]
    assert all(reader is not None for _, reader in made)
