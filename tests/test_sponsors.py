"""Sponsor tracking: profiles and the file-backed source, matching with evidence,
change detection, accept / accept all, departure and opportunity, CTAs through the
alerts model, SLA breaches with a clock passed in, and the reports."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stakeholder import Account, Contact, resolve_domain_ownership
from stakeholder.alerts import CtaCategory, CtaPriority, SourceKind
from stakeholder.sponsors import (
    AccountDirectory,
    ChangeField,
    MatchPolicy,
    PersonQuery,
    Profile,
    ProfileGone,
    ProfileSource,
    Signal,
    SlaKind,
    SlaPolicy,
    SnapshotSource,
    TrackingRecord,
    TrackingStatus,
    TrackingVia,
    UpdateState,
    accept_updates,
    account_timeline,
    changes_report,
    coverage_gaps,
    detect_changes,
    match_person,
    normalise,
    observe_round,
    person_history,
    sla_breaches,
)

S = TrackingStatus
T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
ACME = Account("acme", "Acme Corporation", domains={"acme.com"}, aliases={"ACME"})
GLOBEX = Account("globex", "Globex", domains={"globex.com"})
INITECH = Account("initech", "Initech")
ACCOUNTS = [ACME, GLOBEX, INITECH]
DIRECTORY = AccountDirectory(ACCOUNTS)
JANE = Contact("c1", "acme", email="jane.doe@acme.com", name="Jane Doe", title="VP Sales")


def profile(url: str = "https://p/jane", at: dt.datetime = T0, **fields: str | None) -> Profile:
    values: dict[str, str | None] = {
        "name": "Jane Doe", "title": "VP Sales", "company": "Acme Corporation",
        "company_domain": "acme.com", "location": "London, UK"}
    values.update(fields)
    return Profile("file", url, values.pop("name") or "x", at, **values)


def tracked(base: Profile | None = None, person: str = "c1",
            account: str = "acme") -> TrackingRecord:
    return TrackingRecord(person, account, S.TRACKED, T0, profile_url="https://p/jane",
                          baseline=base or profile(), last_observed_at=T0)


# ----------------------------------------------------------------- profiles and source


def test_normalise_ignores_case_and_spacing() -> None:
    assert normalise("  VP   of  Sales ") == normalise("vp of sales") == "vp of sales"
    assert normalise("STRASSE") == normalise("straße")
    assert normalise(None) == ""


def test_snapshot_source_reads_a_folder(tmp_path: Path) -> None:
    rows = [profile().to_dict(), profile("https://p/john", name="John Roe").to_dict()]
    (tmp_path / "2026-11-01.jsonl").write_text(
        "\n".join(json.dumps(r) for r in rows) + "\nnot json\n{\"url\": \"x\"}\n")
    later = profile(at=T0 + 7 * DAY, title="CRO").to_dict()
    gone = ProfileGone("https://p/john", T0 + 7 * DAY).to_dict()
    (tmp_path / "2026-11-08.jsonl").write_text(json.dumps(later) + "\n" + json.dumps(gone))
    source = SnapshotSource.from_folder(tmp_path)
    assert isinstance(source, ProfileSource)
    assert source.dates == (dt.date(2026, 11, 1), dt.date(2026, 11, 8))
    assert len(source.rejections) == 2
    assert source.rejections[0].where == "2026-11-01.jsonl:3"
    first = source.at(dt.date(2026, 11, 1))
    query = PersonQuery.of(JANE, ACME)
    assert query.company == "Acme Corporation"
    assert query.email == "jane.doe@acme.com"
    assert [p.url for p in first.search(query)] == ["https://p/jane"]
    assert source.fetch("https://p/jane") == Profile.from_dict(later)
    assert isinstance(source.fetch("https://p/john"), ProfileGone)
    assert isinstance(source.fetch("https://p/unknown"), ProfileGone)
    assert "2 snapshots" in repr(source)


# ----------------------------------------------------------------- matching


def test_matching_explains_and_ranks_candidates() -> None:
    ownership = resolve_domain_ownership(ACCOUNTS, [JANE])
    candidates = [
        profile("https://p/jane"),
        profile("https://p/jane-2", company="Other Co", company_domain="other.com",
                title="Nurse", location="Paris"),
        profile("https://p/jd", name="Jane A. Doe", company="ACME", company_domain=None),
        profile("https://p/bob", name="Bob Stone"),
    ]
    result = match_person(JANE, ACME, candidates, ownership=ownership)
    assert result.status is S.MATCH_FOUND
    urls = [s.profile.url for s in result.suggestions]
    assert urls == ["https://p/jane", "https://p/jd"]
    assert [s.rank for s in result.suggestions] == [1, 2]
    best = result.suggestions[0]
    assert {e.kind: e.similarity for e in best.evidence} == {
        "name": 1.0, "company": 1.0, "domain": 1.0, "email": 1.0, "title": 1.0}
    assert "acme.com is owned by acme" in best.explain()
    shuffled = candidates[:]
    random.Random(3).shuffle(shuffled)
    assert match_person(JANE, ACME, shuffled, ownership=ownership) == result


def test_no_match_found_says_why() -> None:
    nobody = match_person(JANE, ACME, [])
    assert nobody.status is S.NO_MATCH_FOUND
    assert nobody.reason == "the source found no candidate"
    weak = match_person(JANE, ACME, [profile(company="Other", company_domain="o.com",
                                             title="Chef", location="Rome")])
    assert weak.status is S.NO_MATCH_FOUND
    assert "< 0.6" in weak.reason
    strict = match_person(JANE, ACME, [profile()], policy=MatchPolicy(threshold=1.01 - 0.01))
    assert strict.status is S.MATCH_FOUND


@settings(max_examples=30)
@given(st.permutations(range(4)), st.floats(0.3, 0.9))
def test_matching_is_order_independent(order: list[int], threshold: float) -> None:
    pool = [profile(f"https://p/{i}", title=t, company=c)
            for i, (t, c) in enumerate([("VP Sales", "Acme"), ("vp", "Globex"),
                                        ("CEO", "Acme Corp"), ("VP Sales", None)])]
    policy = MatchPolicy(threshold=threshold)
    assert match_person(JANE, ACME, [pool[i] for i in order], policy=policy) == match_person(
        JANE, ACME, pool, policy=policy)


# ----------------------------------------------------------------- changes


def test_case_and_spacing_are_not_changes() -> None:
    seen = profile(title="  vp   SALES", location="london, uk", company="ACME CORPORATION")
    assert detect_changes(tracked(), seen, directory=DIRECTORY, at=T0) == ()


def test_title_and_location_changes() -> None:
    seen = profile(at=T0 + 3 * DAY, title="Chief Revenue Officer", location="Berlin")
    updates = detect_changes(tracked(), seen, directory=DIRECTORY, at=T0 + 4 * DAY)
    assert [(u.field, u.before, u.after, u.signal) for u in updates] == [
        (ChangeField.TITLE, "VP Sales", "Chief Revenue Officer", Signal.NONE),
        (ChangeField.LOCATION, "London, UK", "Berlin", Signal.NONE)]
    again = detect_changes(tracked(), seen, directory=DIRECTORY, at=T0 + 9 * DAY)
    assert [u.id for u in again] == [u.id for u in updates]  # same change, same id


def test_departure_and_opportunity() -> None:
    left = detect_changes(tracked(), profile(company="Hooli", company_domain="hooli.com"),
                          directory=DIRECTORY, at=T0)
    assert [(u.signal, u.opportunity_account_id) for u in left] == [(Signal.DEPARTURE, None)]
    by_domain = detect_changes(tracked(), profile(company="Globex Intl",
                                                  company_domain="www.globex.com"),
                               directory=DIRECTORY, at=T0)
    assert [(u.signal, u.opportunity_account_id) for u in by_domain] == [
        (Signal.OPPORTUNITY, "globex")]
    by_name = detect_changes(tracked(), profile(company="Initech, Inc.", company_domain=None),
                             directory=DIRECTORY, at=T0)
    assert by_name[0].signal is Signal.OPPORTUNITY
    assert by_name[0].opportunity_account_id == "initech"
    renamed = detect_changes(tracked(), profile(company="ACME", company_domain="acme.com"),
                             directory=DIRECTORY, at=T0)
    assert [u.signal for u in renamed] == [Signal.NONE]  # an alias of the account itself
    assert "opportunity" in by_domain[0].explain()


def test_ownership_claimed_domains_count_as_owned() -> None:
    contacts = [Contact(f"g{i}", "initech", email=f"p{i}@initech.io") for i in range(3)]
    ownership = resolve_domain_ownership(ACCOUNTS, contacts)
    directory = AccountDirectory(ACCOUNTS, ownership=ownership)
    moved = detect_changes(tracked(), profile(company="IT Co", company_domain="initech.io"),
                           directory=directory, at=T0)
    assert moved[0].opportunity_account_id == "initech"


def test_accept_one_then_all_moves_the_baseline() -> None:
    records = {"c1": tracked(), "c2": tracked(person="c2", account="globex")}
    seen = profile(at=T0 + DAY, title="CRO", location="Berlin")
    ups = list(detect_changes(records["c1"], seen, directory=DIRECTORY, at=T0 + DAY))
    ups += detect_changes(records["c2"], seen, directory=DIRECTORY, at=T0 + DAY)
    one = accept_updates(records, [ups[0]], at=T0 + 2 * DAY, by="csm")
    assert one.updates[0].state is UpdateState.ACCEPTED
    assert one.updates[0].resolved_by == "csm"
    assert one.records[0].baseline is not None
    assert one.records[0].baseline.title == "CRO"
    records["c1"] = one.records[0]
    assert [u.field for u in detect_changes(records["c1"], seen, directory=DIRECTORY,
                                            at=T0)] == [ChangeField.LOCATION]
    per_account = accept_updates(records, [u for u in ups if u.account_id == "acme"][1:],
                                 at=T0 + 2 * DAY, by="csm")
    assert len(per_account.updates) == 1
    everything = accept_updates(records, [*one.updates, *ups[2:]], at=T0 + 3 * DAY, by="csm")
    assert len(everything.updates) == 2
    assert everything.refused == ((ups[0].id, "already accepted"),)
    for record in everything.records:
        assert record.baseline is not None
        assert detect_changes(record, seen, directory=DIRECTORY, at=T0) == ()
    with pytest.raises(ValueError, match="who accepts"):
        accept_updates(records, ups, at=T0, by="")


def test_history_per_person_and_timeline_per_account() -> None:
    seen = profile(at=T0 + DAY, title="CRO", company="Globex", company_domain="globex.com")
    records = [tracked(), attrs.evolve(tracked(person="c2"), status=S.TRACKING_IN_PROGRESS,
                                       baseline=None)]
    fetched: dict[str, Profile | ProfileGone] = {"https://p/jane": seen}
    result = observe_round(records, fetched, directory=DIRECTORY, at=T0 + DAY)
    assert {u.field for u in result.updates} == {ChangeField.TITLE, ChangeField.COMPANY}
    assert result.records[0].status is S.TRACKED
    assert result.records[0].baseline == seen
    accepted = accept_updates({"c1": records[0]}, result.updates, at=T0 + 2 * DAY, by="csm")
    history = [*result.history, *accepted.history]
    mine = person_history(reversed(history), "c1")
    assert [h.action for h in mine] == ["company changed", "title changed",
                                        "accepted company change", "accepted title change"]
    timeline = account_timeline(history, "acme")
    assert [h.at for h in timeline] == sorted(h.at for h in timeline)
    assert {h.person_id for h in timeline} == {"c1", "c2"}


# ----------------------------------------------------------------- rounds and CTAs


def test_only_tracked_profile_changes_open_ctas() -> None:
    at = T0 + 2 * DAY
    records = [
        tracked(),
        tracked(person="c2", account="globex"),
        attrs.evolve(tracked(person="c3"), status=S.MATCH_FOUND),  # not tracked
        attrs.evolve(tracked(person="c4"), profile_url="https://p/gone"),
    ]
    fetched: dict[str, Profile | ProfileGone] = {
        "https://p/jane": profile(at=at, company="Initech", company_domain=None),
        "https://p/gone": ProfileGone("https://p/gone", at),
    }
    result = observe_round(records, fetched, directory=DIRECTORY, at=at,
                           assignees={"acme": "csm@us.example"})
    assert {(u.person_id, u.signal) for u in result.updates} == {
        ("c1", Signal.OPPORTUNITY), ("c2", Signal.OPPORTUNITY)}
    disabled = [r for r in result.records if r.status is S.DISABLED]
    assert [r.person_id for r in disabled] == ["c4"]
    ctas = {(c.account_id, c.source.id): c for c in result.ctas.opened}
    assert set(ctas) == {("acme", "c1"), ("globex", "c2"), ("initech", "c1"),
                         ("initech", "c2")}
    risk = ctas[("acme", "c1")]
    assert risk.source.kind is SourceKind.SPONSOR_CHANGE
    assert (risk.category, risk.priority) == (CtaCategory.RISK, CtaPriority.HIGH)
    assert risk.assignee == "csm@us.example"
    assert risk.due_at == at + 7 * DAY
    assert ctas[("initech", "c1")].category is CtaCategory.OPPORTUNITY
    # the same changes observed again: no new update, no new CTA
    pending = {u.id: u for u in result.updates}
    again = observe_round(records, fetched, directory=DIRECTORY, at=at + DAY, pending=pending,
                          existing_ctas=result.ctas.opened)
    assert again.updates == ()
    assert again.ctas.is_empty


def test_a_newer_change_supersedes_a_pending_one() -> None:
    first = observe_round([tracked()], {"https://p/jane": profile(title="CRO")},
                          directory=DIRECTORY, at=T0)
    pending = {u.id: u for u in first.updates}
    second = observe_round([tracked()], {"https://p/jane": profile(title="CEO")},
                           directory=DIRECTORY, at=T0 + DAY, pending=pending)
    assert [u.after for u in second.updates] == ["CEO"]
    assert [(u.after, u.state) for u in second.superseded] == [("CRO", UpdateState.SUPERSEDED)]
    assert "updates=1" in repr(second)


# ----------------------------------------------------------------- SLAs


def test_sla_breaches_at_a_given_now() -> None:
    now = T0 + dt.timedelta(days=10)
    minute = dt.timedelta(minutes=1)
    records = [
        TrackingRecord("q1", "acme", S.IN_PROGRESS, now - 26 * minute, TrackingVia.BULK),
        TrackingRecord("q2", "acme", S.IN_PROGRESS, now - 24 * minute, TrackingVia.BULK),
        TrackingRecord("s1", "acme", S.PENDING, now - dt.timedelta(hours=73)),
        TrackingRecord("s2", "acme", S.PENDING, now - dt.timedelta(hours=71)),
        TrackingRecord("t1", "acme", S.TRACKING_IN_PROGRESS, now - 16 * minute,
                       requested_at=now - 16 * minute),
        TrackingRecord("t2", "acme", S.TRACKING_IN_PROGRESS, now - 11 * minute,
                       TrackingVia.TRACK_ALL, requested_at=now - 11 * minute),
        TrackingRecord("t3", "acme", S.TRACKING_IN_PROGRESS, now - 11 * minute,
                       requested_at=now - 11 * minute),
        TrackingRecord("k1", "acme", S.TRACKED, T0, last_observed_at=now - 8 * DAY),
        TrackingRecord("k2", "acme", S.TRACKED, T0, last_observed_at=now - 6 * DAY),
        TrackingRecord("d1", "acme", S.DISABLED, T0),
    ]
    late = detect_changes(tracked(), profile(at=now - 9 * DAY, title="CRO"),
                          directory=DIRECTORY, at=now)[0]
    breaches = sla_breaches(records, now=now, updates=[late])
    assert [(b.kind, b.person_id) for b in breaches] == [
        (SlaKind.QUEUED, "q1"), (SlaKind.SEARCH, "s1"), (SlaKind.TRACKING, "t1"),
        (SlaKind.TRACK_ALL, "t2"), (SlaKind.CHANGES, "c1"), (SlaKind.CHANGES, "k1")]
    assert breaches[0].overdue == minute
    assert breaches[4].update_id == late.id
    assert sla_breaches(records, now=T0 - DAY * 30) == []
    relaxed = SlaPolicy(queued=dt.timedelta(hours=1))
    assert SlaKind.QUEUED not in {b.kind for b in sla_breaches(records, now=now, policy=relaxed)}
    assert sla_breaches(records, now=now, last_observed={"k1": now})[-1].person_id == "t2"
    with pytest.raises(ValueError, match="timezone-aware"):
        sla_breaches(records, now=dt.datetime(2026, 1, 1))


# ----------------------------------------------------------------- reports


def test_coverage_gaps_of_key_accounts() -> None:
    records = [tracked(), TrackingRecord("g1", "globex", S.PENDING, T0)]
    gaps = coverage_gaps(ACCOUNTS, records)
    assert [(g["account_id"], g["other_statuses"]) for g in gaps] == [
        ("globex", "Pending"), ("initech", "")]
    keyed = coverage_gaps(ACCOUNTS, records, key=lambda a: a.id != "initech")
    assert [g["account_id"] for g in keyed] == ["globex"]


def test_changes_report_over_a_period() -> None:
    updates = []
    for day in range(4):
        seen = profile(at=T0 + day * DAY, title=f"Title {day}")
        updates += detect_changes(tracked(), seen, directory=DIRECTORY, at=T0 + day * DAY)
    report = changes_report(updates, since=T0 + DAY, until=T0 + 3 * DAY)
    assert [r["after"] for r in report] == ["Title 1", "Title 2"]
    assert set(report[0]) >= {"account_id", "person_id", "field", "before", "after", "signal"}
    assert changes_report(updates, account_ids=["globex"]) == []
