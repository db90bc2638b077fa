"""Notebook HTML (`_repr_html_`): the shared renderer escapes and bounds what it shows, and
two values' HTML, screenshotted in headless Chromium, is not blank and says what it holds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs

from headless_chromium import dump_dom, ink, screenshot
from stakeholder import (
    Account,
    Communication,
    Contact,
    Participant,
    RoutingIndex,
    find_shared_contacts,
    frames,
    resolve_domain_ownership,
    route,
)
from stakeholder._display import (
    MAX_HTML_ROWS,
    attrs_html,
    attrs_repr,
    brief,
    html_card,
    html_table,
)

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_html_table_escapes_every_cell() -> None:
    text = html_table(("<b>col</b>",), [("<script>alert(1)</script>",), ("a & b",)])
    assert "<script>" not in text
    assert "<b>col" not in text
    assert "&lt;script&gt;" in text
    assert "a &amp; b" in text


def test_html_table_says_how_many_rows_it_left_out() -> None:
    text = html_table(("n",), ([i] for i in range(100)), total=100)
    assert text.count("<tr>") == 1 + MAX_HTML_ROWS + 1  # header, shown rows, "more" line
    assert f"{100 - MAX_HTML_ROWS} more rows" in text


def test_card_escapes_title_and_facts() -> None:
    text = html_card("A <b>", [("k<", "v&")])
    assert "A &lt;b&gt;" in text
    assert "k&lt;" in text
    assert "v&amp;" in text


@attrs.frozen
class _Bag:
    name: str
    items: tuple[Account, ...] = ()
    tags: frozenset[str] = frozenset()
    note: str = ""

    __repr__ = attrs_repr
    _repr_html_ = attrs_html


def test_attrs_repr_counts_big_collections_and_omits_defaults() -> None:
    many = tuple(Account(f"a{i}", f"Account {i}") for i in range(50))
    bag = _Bag("x" * 500, many, frozenset(f"t{i}" for i in range(1000)))
    text = repr(bag)
    assert len(text) <= 300
    assert "(50 × Account)" in text
    assert "{1,000 items}" in text
    assert "note=" not in text
    assert repr(_Bag("small", tags=frozenset({"b", "a"}))) == "_Bag(name='small', tags={'a', 'b'})"
    assert brief(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) == "2026-01-01T00:00:00+00:00"


def test_attrs_html_tables_the_largest_collection() -> None:
    bag = _Bag("<x>", tuple(Account(f"a{i}", f"Account <{i}>") for i in range(30)))
    text = bag._repr_html_()
    assert "Account &lt;3&gt;" in text
    assert "<x>" not in text
    assert f"{30 - MAX_HTML_ROWS} more rows" in text


def _decision_and_group() -> tuple[str, str]:
    accounts = [Account("acme", "Acme", domains=["acme.com"]),
                Account("globex", "Globex", domains=["globex.com"])]
    contacts = [Contact("c1", "acme", email="jane@acme.com"),
                Contact("c2", "globex", email="jane@acme.com", deal_stage=4)]
    index = RoutingIndex.build(accounts, contacts, resolve_domain_ownership(accounts, contacts))
    decision = route(
        Communication("m1", AT, [Participant("jane@acme.com", "from"),
                                 Participant("bob@globex.com", "to")]),
        index,
    )
    groups = find_shared_contacts(contacts)
    records = frames.shared_contact_records(groups)
    return decision._repr_html_(), groups[0]._repr_html_() + records._repr_html_()


def test_html_reprs_render_in_chromium(tmp_path: Path) -> None:
    decision_html, group_html = _decision_and_group()
    page = tmp_path / "reprs.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        f'<div id="decision">{decision_html}</div><hr><div id="group">{group_html}</div>'
        "</body></html>",
        encoding="utf-8",
    )
    png = screenshot(page, tmp_path / "reprs.png", width=900, height=700)
    assert ink(png) > 0.01, "the screenshot is (nearly) blank"
    dom = dump_dom(page)
    assert "m1" in dom
    assert "globex" in dom
    assert "shared contact record: 2 rows" in dom
    assert "jane@acme.com" in dom
