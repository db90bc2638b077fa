"""Values the storage layer adds to the library's own: write results, override history
entries and run-log entries. Frozen attrs classes, like every other value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from stakeholder._errors import InvalidRecord
from stakeholder._model import Rejection, check_id
from stakeholder._routing import Override

__all__ = ["OverrideRecord", "RunRecord", "WriteResult"]


def _rejections(value: Iterable[Rejection]) -> tuple[Rejection, ...]:
    return tuple(value)


@attrs.frozen
class WriteResult:
    """What a batch write did: how many items it wrote, and each item it set aside with
    the reason (a batch never stops on a bad item and never drops one silently)."""

    written: int = 0
    rejections: tuple[Rejection, ...] = attrs.field(default=(), converter=_rejections)

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(self.written + other.written, self.rejections + other.rejections)

    def explain(self) -> str:
        """One line per outcome, in plain words."""
        lines = [f"wrote {self.written} item(s), set aside {self.rejected}"]
        lines += [
            f"- {r.record_id if r.record_id is not None else r.raw!r}: {r.reason}"
            for r in self.rejections
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"written": self.written, "rejections": [r.to_dict() for r in self.rejections]}


@attrs.frozen
class OverrideRecord:
    """One entry of the override audit trail: the `override` as a person made it, and
    whether a newer override for the same communication or thread has superseded it.
    Overrides are never deleted; the newest for each target (latest `at`; for equal
    times the smallest author, then reason, then account ids) is the active one."""

    override: Override
    superseded: bool = False

    @property
    def active(self) -> bool:
        return not self.superseded

    def explain(self) -> str:
        o = self.override
        target = f"communication {o.comm_id!r}" if o.comm_id is not None else (
            f"thread {o.thread_id!r}"
        )
        state = "superseded" if self.superseded else "active"
        accounts = ", ".join(o.account_ids) or "no account"
        return (
            f"{o.author} put {target} in {accounts} at {o.at.isoformat()} "
            f"because {o.reason!r} ({state})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"override": self.override.to_dict(), "superseded": self.superseded}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OverrideRecord:
        return cls(Override.from_dict(dict(data["override"])), bool(data["superseded"]))


def _counts(value: Mapping[str, int] | Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    pairs = value.items() if isinstance(value, Mapping) else value
    out: dict[str, int] = {}
    for key, count in pairs:
        if not isinstance(key, str):
            raise InvalidRecord(key, "a run-log count name must be a string")
        if isinstance(count, bool) or not isinstance(count, int):
            raise InvalidRecord(count, f"run-log count {key!r} must be an integer")
        out[key] = count
    return tuple(sorted(out.items()))


def _aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise InvalidRecord(value, f"{attribute.name} must be a timezone-aware datetime")


@attrs.frozen
class RunRecord:
    """What one run (one batch job: a sync, a routing pass, an import) did.

    `at` is the run's time, always given by the caller (the library never reads the
    clock); `counts` maps what was counted to how many (`{"written": 980, "rejected": 20}`),
    kept sorted by name; `note` is free text. Recording a `run_id` again replaces it.
    """

    run_id: str = attrs.field(validator=check_id)
    at: dt.datetime = attrs.field(validator=_aware)
    operation: str = ""
    counts: tuple[tuple[str, int], ...] = attrs.field(factory=tuple, converter=_counts)
    note: str = ""

    def count(self, name: str) -> int:
        """The count called `name`, 0 when absent."""
        return dict(self.counts).get(name, 0)

    def explain(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts) or "nothing counted"
        op = self.operation or "run"
        text = f"{op} {self.run_id!r} at {self.at.isoformat()}: {counts}"
        return f"{text} ({self.note})" if self.note else text

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "at": self.at.isoformat(),
            "operation": self.operation,
            "counts": dict(self.counts),
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunRecord:
        return cls(
            run_id=data["run_id"],
            at=dt.datetime.fromisoformat(data["at"]),
            operation=data.get("operation", ""),
            counts=dict(data.get("counts", {})),
            note=data.get("note", ""),
        )
