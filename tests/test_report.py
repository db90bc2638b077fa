"""`stakeholder report`: one self-contained HTML file, checked in headless Chromium."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from pathlib import Path

import pytest

from headless_chromium import dump_dom, ink, screenshot
from stakeholder import (
    Account,
    Communication,
    Contact,
    MemoryStore,
    OwnershipPolicy,
    Participant,
    RoutingIndex,
    resolve_domain_ownership,
    route_many,
)
from stakeholder.cli import main
from stakeholder.report import CSP, render_html, summarize, write_report

pytest.importorskip("plotly")

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
SECTIONS = (
    "Decisions by status over time",
    "Decisions by rule over time",
    "Top ambiguous and conflict domains, with their fix",
    "Sync issues",
    "Shared contacts by account",
    "Unrouted volume by domain",
)


class _Fetches(HTMLParser):
    """Every URL the page would load by itself (script contents are not markup)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "data", "poster", "srcset") and value:
                self.urls.append(f"<{tag} {name}={value}>")


def _assert_self_contained(text: str) -> None:
    parser = _Fetches()
    parser.feed(text)
    assert parser.urls == []
    assert f'content="{CSP}"' in text  # and the browser refuses any fetch anyway


def _book() -> tuple[list[Account], list[Contact], list[Communication]]:
    accounts = [
        Account("initech", "Initech <Austin>", domains=["initech.com"]),
        Account("initrode", "Initrode", domains=["initech.com"]),
        Account("acme", "Acme", domains=["acme.com"]),
    ]
    contacts = [
        Contact("c1", "acme", email="jane@acme.com"),
        Contact("c2", "initech", email="jane@acme.com"),
        Contact("c3", "initrode", email="peter@initech.com"),
    ]
    at = NOW - dt.timedelta(days=2)
    comms = [
        Communication(f"m{i}", at + dt.timedelta(hours=9 * i), [Participant(who, "from")])
        for i, who in enumerate(
            ["visitor@initech.com", "other@initech.com", "stranger@gmail.com",
             "a@unknown-corp.example", "peter@initech.com"]
        )
    ]
    return accounts, contacts, comms


def _store() -> MemoryStore:
    accounts, contacts, comms = _book()
    ownership = resolve_domain_ownership(accounts, contacts, OwnershipPolicy())
    index = RoutingIndex.build(accounts, contacts, ownership)
    store = MemoryStore()
    store.accounts.put_many("t", accounts)
    store.contacts.put_many("t", contacts)
    store.sync_issues.replace_all("t", ownership.issues)
    store.decisions.put_many("t", route_many(comms, index))
    return store


def test_summary_finds_ambiguous_domains_with_their_fix() -> None:
    store = _store()
    data = summarize(
        store.decisions.list("t"), tenant="t", generated_at=NOW,
        accounts=store.accounts.list("t"), contacts=store.contacts.list("t"),
        issues=store.sync_issues.list("t"),
    )
    assert data.decisions == 5
    assert data.totals["ambiguous"] == 2
    [finding] = [f for f in data.findings if f.domain == "initech.com"]
    assert (finding.kind, finding.accounts, finding.decisions) == (
        "ambiguous", ("initech", "initrode"), 2,
    )
    assert finding.fix == store.sync_issues.get("t", "initech.com").suggestion  # type: ignore[union-attr]
    assert data.unrouted_by_domain == {"gmail.com": 1, "unknown-corp.example": 1}
    assert data.shared_by_account == {"Acme (acme)": 1, "Initech <Austin> (initech)": 1}
    assert sum(sum(c.values()) for c in data.by_day_status.values()) == 5
    assert len(repr(data)) <= 300


def test_report_is_escaped_and_self_contained(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    write_report(_store(), "t", out, generated_at=NOW)
    text = out.read_text(encoding="utf-8")
    _assert_self_contained(text)
    assert "Initech \\u003cAustin\\u003e" in text  # the chart's data, escaped for <script>
    assert "<Austin>" not in text
    for section in SECTIONS:
        assert section in text
    assert text.count("Plotly.newPlot") == 4


def test_empty_tenant_renders_without_charts() -> None:
    data = summarize([], tenant="nobody", generated_at=NOW)
    text = render_html(data)
    _assert_self_contained(text)
    assert "No decisions stored for this tenant." in text
    assert "Plotly" not in text


def test_cli_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--store", "nosuch://x", "--out", str(tmp_path / "r.html")]) == 2
    assert main(["report", "--store", "memory://", "--top", "0"]) == 2
    assert main(["report", "--store", "memory://", "--out", str(tmp_path / "no" / "r.html")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_demo_report_renders_in_chromium(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    assert main(["demo", "--db", db, "--now", "2026-11-11T00:00:00Z"]) == 0
    out = tmp_path / "report.html"
    assert main(["report", "--store", db, "--tenant", "demo", "--out", str(out),
                 "--now", "2026-11-11T00:00:00Z"]) == 0
    assert "wrote" in capsys.readouterr().out
    _assert_self_contained(out.read_text(encoding="utf-8"))

    png = screenshot(out, tmp_path / "report.png", width=1200, height=2400)
    assert ink(png) > 0.05, "the screenshot is (nearly) blank"
    dom = dump_dom(out)
    for section in SECTIONS:
        assert section in dom
    assert "umbrella.com" in dom  # the demo's sync issue, with its fix
    assert dom.count('class="main-svg"') >= 4  # plotly drew the four charts
