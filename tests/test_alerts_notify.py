"""Notifications end to end on loopback: email to a real SMTP server (aiosmtpd), Slack and
Teams payloads to a real HTTP server (http.server), the in-app inbox, retries with
backoff, and exactly-once sending through the outbox."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from stakeholder.alerts import (
    AccountStage,
    DeliveryStatus,
    EmailNotifier,
    InAppNotifier,
    MissedMilestone,
    RetryPolicy,
    Rule,
    SlackNotifier,
    Task,
    TeamsNotifier,
    deliver_outbox,
    run_alerts,
)
from stakeholder.storage import MemoryStore

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[Any]]]:
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    port = _free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


class _Hook:
    def __init__(self) -> None:
        self.bodies: list[tuple[str, dict[str, Any]]] = []
        self.fail_next = 0
        self.lock = threading.Lock()


@pytest.fixture
def webhook_server() -> Iterator[tuple[str, _Hook]]:
    hook = _Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with hook.lock:
                failing = hook.fail_next > 0
                if failing:
                    hook.fail_next -= 1
                else:
                    hook.bodies.append((self.path, json.loads(body)))
            self.send_response(503 if failing else 200)
            self.end_headers()
            self.wfile.write(b"busy" if failing else b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hook
    finally:
        server.shutdown()
        server.server_close()


RULE = Rule(
    id="onboarding",
    name="Onboarding not completed within 30 days",
    triggers=(MissedMilestone(within_days=30),),
    priority="high",
    channels=("email", "slack", "teams", "in-app"),
)
STAGES = [AccountStage("acme", "Onboarding", T0, owner="csm@example.com")]
TASKS = [Task("t1", "acme", "Onboarding")]


def _run(store: MemoryStore, now: dt.datetime, notifiers: dict[str, Any]) -> Any:
    return run_alerts(store, "t", [RULE], STAGES, now=now, tasks=TASKS, notifiers=notifiers,
                      send=True, retry=RetryPolicy(base_seconds=3600, factor=2, max_attempts=5))


def test_email_slack_teams_and_in_app_are_delivered_once(
    smtp_server: tuple[int, list[Any]], webhook_server: tuple[str, _Hook]
) -> None:
    port, mails = smtp_server
    url, hook = webhook_server
    store = MemoryStore()
    notifiers = {
        "email": EmailNotifier("127.0.0.1", port, sender="alerts@example.com"),
        "slack": SlackNotifier(f"{url}/slack"),
        "teams": TeamsNotifier(f"{url}/teams"),
        "in-app": InAppNotifier(store.inbox, "t"),
    }
    run = _run(store, T0 + 31 * DAY, notifiers)
    assert run.summary()["sent email"] == 1
    assert (len(mails), len(hook.bodies)) == (1, 2)
    mail = message_from_bytes(mails[0].content)
    assert mails[0].rcpt_tos == ["csm@example.com"]
    assert mail["Subject"] == "[high] New call to action: acme"
    assert "Onboarding not completed within 30 days" in mail.get_payload()
    paths = dict(hook.bodies)
    assert paths["/slack"]["blocks"][0]["type"] == "header"
    card = paths["/teams"]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    (item,) = store.inbox.list("t", "csm@example.com")
    assert item.unread
    # a second run at the same or a later time sends nothing again
    _run(store, T0 + 31 * DAY, notifiers)
    _run(store, T0 + 32 * DAY, notifiers)
    assert (len(mails), len(hook.bodies)) == (1, 2)
    assert store.outbox.count("t", status=DeliveryStatus.SENT) == 4


def test_a_failing_endpoint_stays_pending_is_retried_next_run_and_sent_once(
    webhook_server: tuple[str, _Hook],
) -> None:
    url, hook = webhook_server
    hook.fail_next = 1
    store = MemoryStore()
    slack_only = {"slack": SlackNotifier(f"{url}/slack")}
    now = T0 + 31 * DAY
    first = _run(store, now, slack_only)
    assert dict(first.delivery.failed) == {"email": 1, "in-app": 1, "slack": 1, "teams": 1}
    pending = next(d for d in store.outbox.list("t") if d.channel == "slack")
    assert pending.attempts == 1
    assert pending.next_attempt_at == now + dt.timedelta(hours=1)
    assert "503" in (pending.last_error or "")
    assert store.ctas.count("t") == 1  # the CTA is never lost
    early = _run(store, now + dt.timedelta(minutes=30), slack_only)
    assert early.delivery.sent == ()  # not due yet
    later = _run(store, now + dt.timedelta(hours=2), slack_only)
    assert dict(later.delivery.sent) == {"slack": 1}
    _run(store, now + dt.timedelta(hours=5), slack_only)
    assert len(hook.bodies) == 1
    slack = next(d for d in store.outbox.list("t") if d.channel == "slack")
    assert (slack.status, slack.attempts) == (DeliveryStatus.SENT, 2)


def test_gives_up_after_the_last_attempt_and_keeps_the_delivery() -> None:
    store = MemoryStore()
    policy = RetryPolicy(base_seconds=1, factor=1, max_attempts=2)
    run_alerts(store, "t", [RULE], STAGES, now=T0 + 31 * DAY, tasks=TASKS, send=True,
               retry=policy)
    for hours in (1, 2):
        deliver_outbox(store.outbox, "t", {}, now=T0 + 31 * DAY + hours * dt.timedelta(hours=1),
                       retry=policy)
    assert store.outbox.count("t", status=DeliveryStatus.FAILED) == 4
    assert store.outbox.due("t", T0 + 60 * DAY) == []


def test_retries_within_one_pass_with_backoff(webhook_server: tuple[str, _Hook]) -> None:
    url, hook = webhook_server
    hook.fail_next = 2
    store = MemoryStore()
    run_alerts(store, "t", [RULE], STAGES, now=T0 + 31 * DAY, tasks=TASKS)  # dry run
    assert store.outbox.count("t") == 0
    plan = run_alerts(store, "t", [RULE], STAGES, now=T0 + 31 * DAY, tasks=TASKS, send=False)
    assert plan.applied is False
    from stakeholder.alerts import apply_alert_plan

    apply_alert_plan(store, "t", plan.plan)
    waits: list[float] = []
    report = deliver_outbox(store.outbox, "t", {"slack": SlackNotifier(url)}, now=T0 + 31 * DAY,
                            attempts_per_run=3, sleep=waits.append,
                            retry=RetryPolicy(base_seconds=2, factor=3))
    assert dict(report.sent) == {"slack": 1}
    assert waits[:2] == [2.0, 6.0]
    assert len(hook.bodies) == 1
