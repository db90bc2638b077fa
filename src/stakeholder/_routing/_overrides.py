"""Overrides filed by target for the index: per communication, thread, address, host."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from stakeholder._ownership._hosts import host_suffixes
from stakeholder._routing._values import Override


def _neg_age(at: dt.datetime) -> dt.timedelta:
    return _EPOCH - at


_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _override_key(o: Override) -> tuple[Any, ...]:
    """Latest `at` first, then author, then reason, then the rest (total order)."""
    return (
        _neg_age(o.at),
        o.author,
        o.reason,
        o.account_ids,
        o.comm_id or "",
        o.thread_id or "",
        o.address or "",
        o.host or "",
    )


def _keep_override(
    by_comm: dict[str, Override], by_thread: dict[str, Override], override: Override
) -> None:
    """File `override` under its communication or thread id, keeping the active one
    (latest `at`, then author, reason) when several target the same id."""
    table, target = (
        (by_comm, override.comm_id)
        if override.comm_id is not None
        else (by_thread, override.thread_id)
    )
    assert target is not None
    current = table.get(target)
    if current is None or _override_key(override) < _override_key(current):
        table[target] = override


class _Overrides:
    """Overrides filed by target: one active per communication, thread, address or host
    (the latest `at`, then author, reason: as the stores keep them). A sticky reroute
    applies to communications that occur at or after its `at`."""

    __slots__ = ("by_address", "by_comm", "by_host", "by_thread")

    def __init__(self) -> None:
        self.by_comm: dict[str, Override] = {}
        self.by_thread: dict[str, Override] = {}
        self.by_address: dict[str, tuple[Override, ...]] = {}
        self.by_host: dict[str, tuple[Override, ...]] = {}

    def copy(self) -> _Overrides:
        other = _Overrides()
        other.by_comm = dict(self.by_comm)
        other.by_thread = dict(self.by_thread)
        other.by_address = dict(self.by_address)
        other.by_host = dict(self.by_host)
        return other

    def add(self, override: Override) -> None:
        if not override.sticky:
            _keep_override(self.by_comm, self.by_thread, override)
            return
        table, target = (
            (self.by_address, override.address)
            if override.address is not None
            else (self.by_host, override.host)
        )
        assert target is not None
        current = table.get(target)
        if current is None or _override_key(override) < _override_key(current[0]):
            table[target] = (override,)

    def sticky(self, key: str, at: dt.datetime) -> Override | None:
        """The reroute in force for canonical address `key` at `at`: the address's own,
        else the longest host's that holds it, when made at or before `at`."""
        found = self.by_address.get(key)
        if found is not None:
            for override in found:
                if override.at <= at:
                    return override
        if self.by_host:
            for host in host_suffixes(key[key.rfind("@") + 1 :]):
                found = self.by_host.get(host)
                if found is not None:
                    for override in found:
                        if override.at <= at:
                            return override
        return None

    def __len__(self) -> int:
        return (
            len(self.by_comm)
            + len(self.by_thread)
            + sum(len(v) for v in self.by_address.values())
            + sum(len(v) for v in self.by_host.values())
        )
