"""Routing real mail (SpamAssassin corpus, 3GPP lists) against real organisations (bigbang).

Assertions are what the data implies: every message is ingested or rejected with a
reason; routing yields one decision per ingested message; an address at a domain that
exactly one organisation owns brings that organisation into the decision; ambiguous
decisions name only claimants of the participants' domains.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import shared_data
from stakeholder import (
    Account,
    DomainOwnership,
    DomainStatus,
    EmailAddress,
    EvidenceKind,
    InvalidDomain,
    InvalidEmail,
    OwnershipPolicy,
    RouteStatus,
    RoutingIndex,
    is_automated_address,
    resolve_domain_ownership,
    route_many,
)
from stakeholder.ingest import read_communications


def bigbang_accounts(path: Path) -> list[Account]:
    """One account per organisation row: declared domains from "email domain names",
    parent from "subsidiary of / alias of" when that organisation is in the file."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids: list[str] = []
    first_id: dict[str, str] = {}
    for n, row in enumerate(rows):
        slug = re.sub(r"[^a-z0-9]+", "-", row["name"].lower()).strip("-") or "org"
        account_id = f"{slug}-{n}"
        ids.append(account_id)
        first_id.setdefault(row["name"].strip(), account_id)
    accounts = []
    for account_id, row in zip(ids, rows, strict=True):
        domains = []
        for raw in row["email domain names"].split(","):
            try:
                Account("probe", "probe", domains=[raw]) if raw.strip() else None
            except InvalidDomain:
                continue
            if raw.strip():
                domains.append(raw)
        parent = first_id.get(row["subsidiary of / alias of"].strip())
        accounts.append(
            Account(
                account_id,
                row["name"].strip() or account_id,
                parent_id=parent if parent != account_id else None,
                domains=domains,
            )
        )
    return accounts


@pytest.fixture(scope="module")
def bigbang() -> tuple[list[Account], DomainOwnership, RoutingIndex]:
    accounts = bigbang_accounts(shared_data("orgs", "bigbang", "organization_categories.csv"))
    ownership = resolve_domain_ownership(accounts, [], OwnershipPolicy())
    return accounts, ownership, RoutingIndex.build(accounts, [], ownership)


def _domain(address: str) -> str | None:
    try:
        parsed = EmailAddress.parse(address)
    except InvalidEmail:
        return None
    if is_automated_address(parsed):
        return None
    return parsed.domain  # ownership looks hosts up at host level (longest claimed host)


def _participant_domains(comm: object) -> Iterator[str]:
    for p in comm.participants:  # type: ignore[attr-defined]
        domain = _domain(p.address)
        if domain is not None:
            yield domain


@pytest.mark.parametrize("corpus", ["spamassassin", "3gpp"])
def test_every_message_is_ingested_or_rejected_and_routed_once(
    corpus: str, bigbang: tuple[list[Account], DomainOwnership, RoutingIndex]
) -> None:
    accounts, ownership, index = bigbang
    result = read_communications(shared_data("mail", corpus))
    ingested, rejected = len(result.items), len(result.rejections)
    assert ingested > 0
    assert all(r.reason for r in result.rejections)
    print(f"{corpus}: {ingested} ingested, {rejected} rejected")
    if corpus == "spamassassin":  # one message per JSON line: every line is accounted for
        corpus_file = shared_data("mail", corpus, "spamassassin_public_corpus.jsonl.gz")
        with gzip.open(corpus_file, "rt", encoding="utf-8") as handle:
            messages = sum(1 for line in handle if line.strip())
        from_file = [r for r in result.rejections if r.where.startswith(str(corpus_file))]
        assert ingested + len(from_file) == messages

    decisions = list(route_many(result.items, index))
    assert [d.comm_id for d in decisions] == [c.id for c in result.items]

    account_ids = {a.id for a in accounts}
    routed_somewhere = 0
    for comm, d in zip(result.items, decisions, strict=True):
        assert d.status in RouteStatus
        assert set(d.account_ids) <= account_ids
        domains = set(_participant_domains(comm))
        owners = {ownership.owner(x) for x in domains if ownership.status(x) is DomainStatus.UNIQUE}
        # strong evidence: every uniquely owned domain's organisation gets the message,
        # unless it is list or bulk mail: then they are its candidates (issue 11)
        if d.status is RouteStatus.BULK:
            assert d.rule == "bulk"
            assert not d.account_ids
            if len(d.candidates) < 20:
                assert owners <= set(d.candidates), d.explain()
            continue
        assert owners <= set(d.account_ids), d.explain()
        if d.status is RouteStatus.ROUTED:
            routed_somewhere += 1
            for account_id in d.account_ids:
                assert any(
                    account_id in (*ownership.claimants(x), ownership.owner(x)) for x in domains
                ), d.explain()
        if d.status is RouteStatus.AMBIGUOUS:
            assert len(d.candidates) >= 2
            claimants = {c for x in domains for c in ownership.claimants(x)}
            assert set(d.candidates) <= claimants
        if d.status is RouteStatus.REJECTED:
            assert d.reason
            assert all(e.kind is EvidenceKind.INVALID for e in d.evidence)
        if d.status is RouteStatus.UNROUTED:
            assert not owners
            assert not any(ownership.claimants(x) for x in domains)
    if corpus == "3gpp":
        # the 3GPP lists are written by telecom companies that bigbang maps by hand
        assert routed_somewhere > 0
