"""Engagement metrics per account from routing decisions, and their CSV / JSON output."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stakeholder import CommKind, ConfigurationError
from stakeholder._routing import Evidence, RouteStatus, RoutingDecision
from stakeholder.crm import (
    EngagementFields,
    engagement_metrics,
    write_engagement_csv,
    write_engagement_json,
)

NOW = dt.datetime(2024, 6, 30, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def decision(
    comm_id: str,
    days_ago: float | None,
    accounts: tuple[str, ...] = ("acme",),
    *,
    kind: CommKind = CommKind.EMAIL,
    status: RouteStatus = RouteStatus.ROUTED,
    people: tuple[tuple[str, str], ...] = (),
    evidence: tuple[Evidence, ...] = (),
) -> RoutingDecision:
    return RoutingDecision(
        comm_id=comm_id,
        status=status,
        account_ids=accounts,
        occurred_at=None if days_ago is None else NOW - days_ago * DAY,
        kind=kind,
        evidence=evidence
        + tuple(Evidence("unique_contact", "strong", (a,), address) for address, a in people),
    )


def test_counts_per_window_and_last_touch() -> None:
    decisions = [
        decision("e1", 1, people=(("jane@acme.com", "acme"),)),
        decision("e2", 10, people=(("Jane@ACME.com", "acme"), ("bob@acme.com", "acme"))),
        decision("m1", 45, kind=CommKind.MEETING, people=(("carol@acme.com", "acme"),)),
        decision("c1", 80, kind=CommKind.CALL),
        decision("e3", 200),  # outside both windows: only the last touch could count
    ]
    report = engagement_metrics(decisions, now=NOW)
    acme = report.get("acme")
    assert acme is not None
    assert acme.last_touch == NOW - DAY
    w30, w90 = acme.window(30), acme.window(90)
    assert (w30.emails, w30.meetings, w30.calls, w30.stakeholders) == (2, 0, 0, 2)
    assert (w90.emails, w90.meetings, w90.calls, w90.stakeholders) == (2, 1, 1, 3)
    with pytest.raises(KeyError):
        acme.window(7)


def test_window_bounds_exclude_the_start_and_include_now() -> None:
    decisions = [decision("edge", 30), decision("now", 0), decision("inside", 29.999)]
    w30 = engagement_metrics(decisions, now=NOW, windows=[30]).accounts[0].window(30)
    assert w30.emails == 2


def test_a_communication_counts_for_each_of_its_accounts() -> None:
    report = engagement_metrics(
        [decision("e1", 2, ("acme", "partner"), people=(("p@partner.com", "partner"),
                                                         ("j@acme.com", "acme")))],
        now=NOW,
    )
    assert [a.account_id for a in report.accounts] == ["acme", "partner"]
    assert report.get("acme").window(30).stakeholders == 1  # type: ignore[union-attr]
    assert report.get("partner").window(30).stakeholders == 1  # type: ignore[union-attr]


def test_set_aside_addresses_are_not_stakeholders() -> None:
    evidence = (
        Evidence("internal", "set_aside", (), "me@ourco.com"),
        Evidence("automated", "set_aside", (), "no-reply@acme.com"),
        Evidence("personal", "none", (), "someone@gmail.com"),
        Evidence("domain_owner", "weak", ("acme",), "new.person@acme.com"),
        Evidence("thread_memory", "tiebreak", ("acme",), None),
    )
    report = engagement_metrics([decision("e1", 1, evidence=evidence)], now=NOW)
    assert report.accounts[0].window(30).stakeholders == 1


def test_skipped_decisions_are_counted_with_reasons() -> None:
    decisions = [
        decision("ok", 1),
        decision("amb", 1, (), status=RouteStatus.AMBIGUOUS),
        decision("unrouted", 1, (), status=RouteStatus.UNROUTED),
        decision("untimed", None),
        decision("future", -1),
        decision("other", 1, ("globex",)),
    ]
    report = engagement_metrics(decisions, now=NOW, account_ids=["acme", "initech"])
    assert dict(report.skipped) == {
        "status ambiguous": 1,
        "status unrouted": 1,
        "no time": 1,
        "after now": 1,
        "for other accounts": 1,
    }
    assert [a.account_id for a in report.accounts] == ["acme", "initech"]
    initech = report.get("initech")
    assert initech is not None
    assert initech.last_touch is None
    assert all(w.emails == 0 for w in initech.windows)
    assert "skipped 1 decision(s): no time" in report.explain()


def test_records_use_the_crm_field_names() -> None:
    report = engagement_metrics(
        [decision("e1", 1)], now=NOW, field_names=EngagementFields.salesforce()
    )
    (record,) = report.to_records()
    assert record["Id"] == "acme"
    assert record["Last_Touch__c"] == "2024-06-29T12:00:00Z"
    assert record["Emails_30d__c"] == 1
    assert record["Emails_90d__c"] == 1
    hubspot = engagement_metrics([decision("e1", 1)], now=NOW,
                                 field_names=EngagementFields.hubspot())
    assert "Record ID" in hubspot.to_records()[0]
    custom = EngagementFields(account_id="AccountId", calls=None, stakeholders=None)
    columns = engagement_metrics([], now=NOW, windows=(7,), field_names=custom).columns()
    assert columns == ["AccountId", "last_touch_at", "emails_7d", "meetings_7d"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"emails": "Emails__c"},  # no {days}
        {"account_id": None},
        {"last_touch": "  "},
        {"emails": "x_{days}", "meetings": "x_{days}"},  # repeated output names
    ],
)
def test_bad_field_names_raise(kwargs: dict[str, object]) -> None:
    def build() -> None:
        fields = EngagementFields(**kwargs)  # type: ignore[arg-type]
        engagement_metrics([], now=NOW, field_names=fields)

    with pytest.raises(ConfigurationError):
        build()


@pytest.mark.parametrize("windows", [(), (0,), (-5,), (True,), ("30",)])
def test_bad_windows_raise(windows: tuple[object, ...]) -> None:
    with pytest.raises(ConfigurationError):
        engagement_metrics([], now=NOW, windows=windows)  # type: ignore[arg-type]


def test_naive_now_raises() -> None:
    with pytest.raises(ConfigurationError):
        engagement_metrics([], now=NOW.replace(tzinfo=None))


def test_csv_and_json_outputs(tmp_path: Path) -> None:
    report = engagement_metrics(
        [decision("e1", 1, people=(("j@acme.com", "acme"),))], now=NOW, account_ids=["acme", "b"]
    )
    csv_path = write_engagement_csv(report, tmp_path / "out.csv")
    with csv_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["account_id"] for r in rows] == ["acme", "b"]
    assert rows[0]["emails_30d"] == "1"
    assert rows[0]["stakeholders_30d"] == "1"
    assert rows[1]["last_touch_at"] == ""
    json_path = write_engagement_json(report, tmp_path / "out.json")
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data == report.to_records()
    assert data[1]["last_touch_at"] is None
    assert report.to_dict()["records"] == data


_decisions = st.lists(
    st.builds(
        decision,
        comm_id=st.sampled_from([f"m{i}" for i in range(10)]),
        days_ago=st.none() | st.floats(min_value=-5, max_value=120),
        accounts=st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2,
                          unique=True).map(tuple),
        kind=st.sampled_from(CommKind),
        people=st.lists(
            st.tuples(st.sampled_from(["x@a.com", "y@b.com", "Z@C.com"]),
                      st.sampled_from(["a", "b", "c"])), max_size=3
        ).map(tuple),
    ),
    max_size=12,
    unique_by=lambda d: d.comm_id,
)


@settings(max_examples=60)
@given(decisions=_decisions, data=st.data())
def test_metrics_do_not_depend_on_order_and_windows_nest(
    decisions: list[RoutingDecision], data: st.DataObject
) -> None:
    report = engagement_metrics(decisions, now=NOW)
    shuffled = engagement_metrics(data.draw(st.permutations(decisions)), now=NOW)
    assert report == shuffled
    for account in report.accounts:
        short, long = account.window(30), account.window(90)
        assert short.emails <= long.emails
        assert short.meetings <= long.meetings
        assert short.calls <= long.calls
        assert short.stakeholders <= long.stakeholders
        assert account.last_touch is None or account.last_touch <= NOW
