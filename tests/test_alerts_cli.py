"""`stakeholder alerts run|list|demo` on the bundled sample book."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import pytest

from stakeholder.cli import main
from stakeholder.cli.cmd_alerts import run_demo

SAMPLE = Path(str(importlib.resources.files("stakeholder") / "_sample" / "alerts"))


def _args(store: str, *extra: str) -> list[str]:
    return [
        "alerts", "run", "--rules", str(SAMPLE / "rules.toml"),
        "--accounts", str(SAMPLE / "accounts.csv"), "--tasks", str(SAMPLE / "tasks.csv"),
        "--usage", str(SAMPLE / "usage.csv"), "--decisions", str(SAMPLE / "decisions.jsonl"),
        "--store", store, "--now", "2026-03-09T09:00", *extra,
    ]


def test_dry_run_writes_nothing_then_send_writes_and_list_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite:///{tmp_path / 'alerts.db'}"
    assert main(_args(store)) == 0
    out = capsys.readouterr().out
    assert "dry run: nothing written or sent" in out
    assert "opened 10, updated 0, closed 0, escalated 0" in out
    assert "notify email 7" in out
    assert "Would send:" in out
    assert main(["alerts", "list", "--store", store]) == 0
    assert "0 CTA(s)" in capsys.readouterr().out
    assert main(_args(store, "--send")) == 0
    out = capsys.readouterr().out
    assert "sent in-app 10" in out
    assert "failed email 7" in out  # no SMTP server configured: left pending
    assert main(_args(store, "--send")) == 0
    assert "opened 0, updated 0, closed 0, escalated 0" in capsys.readouterr().out
    from stakeholder.storage import open_store

    opened = open_store(store)
    try:
        runs = opened.runs.list("default")
    finally:
        opened.close()
    assert [r.operation for r in runs] == ["alerts"]  # one run id per --now: replaced
    assert runs[0].count("sent in-app") == 0
    assert main(["alerts", "list", "--store", store, "--account", "globex"]) == 0
    out = capsys.readouterr().out
    assert "rule:onboarding-30d" in out
    assert "1 CTA(s)" in out


def test_bad_rules_exit_2_naming_rule_field_and_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nid = "r"\npriority = "mega"\n[[rule.trigger]]\n'
                     'kind = "low-usage"\nmetric = "m"\nbelow = 1\n', encoding="utf-8")
    args = _args("memory://")
    args[args.index("--rules") + 1] = str(rules)
    assert main(args) == 2
    assert "rule 'r', field 'priority'" in capsys.readouterr().err


def test_demo_shows_ctas_opened_escalated_and_closed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alerts", "demo", "--weeks", "7"]) == 0
    out = capsys.readouterr().out
    assert "+ opened" in out
    assert "^ escalated" in out
    assert "- closed" in out
    runs = run_demo(7)
    assert sum(len(r.plan.ctas.opened) for r in runs) == 13
    assert sum(len(r.plan.ctas.closed) for r in runs) == 6
    assert sum(len(r.plan.ctas.escalations) for r in runs) == 16


def test_snooze_and_close_by_hand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from stakeholder.alerts import CtaStatus
    from stakeholder.storage import open_store

    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    assert main(_args(url, "--send")) == 0
    store = open_store(url)
    try:
        globex = store.ctas.list("default", account_id="globex")[0]
        umbrella = store.ctas.list("default", account_id="umbrella")[0]
    finally:
        store.close()
    assert main(["alerts", "snooze", "--store", url, "--id", globex.id,
                 "--until", "2026-04-01", "--now", "2026-03-10"]) == 0
    assert main(["alerts", "close", "--store", url, "--id", umbrella.id,
                 "--reason", "customer paused", "--now", "2026-03-10"]) == 0
    assert main(["alerts", "close", "--store", url, "--id", "nope", "--reason", "x"]) == 2
    capsys.readouterr()
    # a week later: the snoozed CTA neither escalates nor notifies; the closed one stays
    # closed until the rule's next evaluation opens a new one
    args = _args(url, "--send")
    args[args.index("--now") + 1] = "2026-03-16T09:00"
    assert main(args) == 0
    store = open_store(url)
    try:
        snoozed = store.ctas.get("default", globex.id)
        closed = store.ctas.get("default", umbrella.id)
        escalated = {e.cta_id for e in store.escalations.list("default")}
    finally:
        store.close()
    assert snoozed is not None
    assert snoozed.status is CtaStatus.SNOOZED
    assert snoozed.escalation_level == 0
    assert globex.id not in escalated
    assert closed is not None
    assert closed.close_reason == "closed by hand: customer paused"
