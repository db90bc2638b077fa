"""Notifiers: the `Notifier` protocol and its email, Slack, Teams and in-app adapters,
and `deliver_outbox`, which sends due deliveries with retries and backoff.

Adapters are the only code in `stakeholder.alerts` with side effects. Email uses the
standard library (`email`, `smtplib`); Slack and Teams post JSON to incoming webhooks
with httpx, imported when a webhook notifier is built (the `alerts` extra); in-app
writes to the store's inbox. Every message carries its delivery id (the `Message-ID`
of an email, a field of a webhook payload) so a receiver can drop a repeat.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from stakeholder._errors import MissingDependency
from stakeholder.alerts._outbox import Delivery, InboxItem

if TYPE_CHECKING:
    from stakeholder.storage._alerts_protocols import InboxRepository, OutboxRepository

__all__ = [
    "DeliveryReport",
    "EmailNotifier",
    "InAppNotifier",
    "Notifier",
    "NotifierError",
    "RetryPolicy",
    "SlackNotifier",
    "TeamsNotifier",
    "deliver_outbox",
    "slack_payload",
    "teams_payload",
]


class NotifierError(Exception):
    """A delivery attempt failed (the endpoint refused it or could not be reached)."""


@runtime_checkable
class Notifier(Protocol):
    """Sends one delivery; raises any exception to report a failed attempt."""

    channel: str

    def send(self, delivery: Delivery) -> None:
        """Deliver now, or raise."""


def _facts_text(delivery: Delivery) -> str:
    return "\n".join(f"{k}: {v}" for k, v in delivery.facts)


class EmailNotifier:
    """Email through an SMTP server (`smtplib`), one message per delivery."""

    channel = "email"

    def __init__(
        self, host: str, port: int = 25, *, sender: str = "alerts@localhost",
        timeout: float = 10.0, starttls: bool = False,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.timeout, self.starttls, self.login = timeout, starttls, login

    def message(self, delivery: Delivery) -> EmailMessage:
        """The email for `delivery` (plain text; `Message-ID` from the delivery id)."""
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = delivery.recipient
        msg["Subject"] = delivery.title
        msg["Message-ID"] = f"<{delivery.id}@stakeholder.alerts>"
        msg["Date"] = format_datetime(delivery.created_at)
        msg["X-Stakeholder-Delivery"] = delivery.id
        msg.set_content(f"{delivery.text}\n\n{_facts_text(delivery)}\n")
        return msg

    def send(self, delivery: Delivery) -> None:
        import smtplib  # noqa: PLC0415 - the network module loads only when asked to send

        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.login is not None:
                smtp.login(*self.login)
            smtp.send_message(self.message(delivery))


def slack_payload(delivery: Delivery) -> dict[str, Any]:
    """A Slack Block Kit message: a header, the reason, the facts as fields."""
    fields = [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in delivery.facts][:10]
    return {
        "text": delivery.title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": delivery.title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": delivery.text[:3000]}},
            {"type": "section", "fields": fields},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": f"delivery {delivery.id}"}]},
        ],
    }


def teams_payload(delivery: Delivery) -> dict[str, Any]:
    """A Microsoft Teams message with an Adaptive Card (1.4): title, reason, fact set."""
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": delivery.title, "weight": "Bolder", "size": "Medium",
             "wrap": True},
            {"type": "TextBlock", "text": delivery.text, "wrap": True},
            {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in delivery.facts]},
            {"type": "TextBlock", "text": f"delivery {delivery.id}", "isSubtle": True,
             "size": "Small"},
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


class _WebhookNotifier(abc.ABC):
    channel = ""

    def __init__(self, url: str, *, timeout: float = 10.0, client: Any = None) -> None:
        try:
            import httpx  # noqa: PLC0415 - optional dependency, imported when used
        except ImportError as exc:
            raise MissingDependency(f"{self.channel} notifications", "alerts", "httpx") from exc
        self.url = url
        self._client = client if client is not None else httpx.Client(timeout=timeout)

    @abc.abstractmethod
    def payload(self, delivery: Delivery) -> dict[str, Any]:
        """The JSON body this channel's webhook expects for `delivery`."""

    def send(self, delivery: Delivery) -> None:
        response = self._client.post(
            self.url, json=self.payload(delivery),
            headers={"X-Stakeholder-Delivery": delivery.id},
        )
        if response.status_code >= 300:
            raise NotifierError(f"{self.channel} webhook answered {response.status_code}: "
                                f"{response.text[:200]}")

    def close(self) -> None:
        self._client.close()


class SlackNotifier(_WebhookNotifier):
    """A Slack incoming webhook (Block Kit payload, posted with httpx)."""

    channel = "slack"

    def payload(self, delivery: Delivery) -> dict[str, Any]:
        return slack_payload(delivery)


class TeamsNotifier(_WebhookNotifier):
    """A Microsoft Teams incoming webhook / workflow (Adaptive Card, posted with httpx)."""

    channel = "teams"

    def payload(self, delivery: Delivery) -> dict[str, Any]:
        return teams_payload(delivery)


class InAppNotifier:
    """The in-app inbox: each delivery becomes an unread `InboxItem` for its recipient
    (the item id is the delivery id, so a repeat adds nothing)."""

    channel = "in-app"

    def __init__(self, inbox: InboxRepository, tenant: str) -> None:
        self.inbox, self.tenant = inbox, tenant

    def send(self, delivery: Delivery) -> None:
        self.inbox.add(
            self.tenant,
            InboxItem(
                id=delivery.id, user=delivery.recipient, cta_id=delivery.cta_id,
                title=delivery.title, text=delivery.text, created_at=delivery.created_at,
            ),
        )


@attrs.frozen
class RetryPolicy:
    """Backoff after a failed attempt: `base_seconds * factor ** (attempts - 1)`, at most
    `max_seconds`; after `max_attempts` attempts a delivery is `failed` (kept)."""

    base_seconds: float = 60.0
    factor: float = 4.0
    max_seconds: float = 6 * 3600.0
    max_attempts: int = 8

    def retry_at(self, attempts: int, now: dt.datetime) -> dt.datetime | None:
        """When to try again after `attempts` failed attempts, or `None` to give up."""
        if attempts >= self.max_attempts:
            return None
        wait = min(self.max_seconds, self.base_seconds * self.factor ** (attempts - 1))
        return now + dt.timedelta(seconds=wait)


@attrs.frozen
class DeliveryReport:
    """What one delivery pass did: sent and failed attempts per channel, and the
    deliveries given up on."""

    sent: tuple[tuple[str, int], ...] = ()
    failed: tuple[tuple[str, int], ...] = ()
    gave_up: int = 0
    errors: tuple[str, ...] = ()

    def total_sent(self) -> int:
        """Deliveries sent in this pass, all channels."""
        return sum(n for _, n in self.sent)

    def __repr__(self) -> str:
        return (
            f"DeliveryReport(sent={dict(self.sent)}, failed={dict(self.failed)}, "
            f"gave_up={self.gave_up}, errors={len(self.errors)})"
        )


def deliver_outbox(
    outbox: OutboxRepository,
    tenant: str,
    notifiers: Mapping[str, Notifier],
    *,
    now: dt.datetime,
    retry: RetryPolicy | None = None,
    attempts_per_run: int = 1,
    sleep: Callable[[float], None] | None = None,
) -> DeliveryReport:
    """Send every due delivery of the outbox through the notifier of its channel.

    Each delivery is tried up to `attempts_per_run` times in this pass (`sleep(seconds)`
    between tries, the backoff of `retry`); success marks it `sent` at `now` (it is
    never sent again); failure records the attempt and error and leaves it pending until
    its next attempt time (a later run), or `failed` after the policy's last attempt.
    A channel without a notifier is left pending (counted as failed, with the reason).
    """
    policy = retry or RetryPolicy()
    sent: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    errors: list[str] = []
    gave_up = 0
    for delivery in outbox.due(tenant, now):
        notifier = notifiers.get(delivery.channel)
        current = delivery
        for attempt in range(max(1, attempts_per_run)):
            if notifier is None:
                error = f"no notifier for channel {delivery.channel!r}"
            else:
                try:
                    notifier.send(current)
                except Exception as exc:  # noqa: BLE001 - any failure is one failed attempt
                    error = f"{type(exc).__name__}: {exc}"
                else:
                    current = current.sent(now)
                    outbox.update(tenant, current)
                    sent[delivery.channel] += 1
                    break
            retry_at = policy.retry_at(current.attempts + 1, now)
            current = current.failed_attempt(now, error, retry_at=retry_at)
            outbox.update(tenant, current)
            failed[delivery.channel] += 1
            errors.append(f"{delivery.id} ({delivery.channel}): {error}")
            if retry_at is None:
                gave_up += 1
                break
            if notifier is None or attempt + 1 >= attempts_per_run:
                break
            if sleep is not None:
                sleep((retry_at - now).total_seconds())
    return DeliveryReport(
        sent=tuple(sorted(sent.items())), failed=tuple(sorted(failed.items())),
        gave_up=gave_up, errors=tuple(errors),
    )
