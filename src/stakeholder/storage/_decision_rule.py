"""The store's rule for a second decision with the same communication id, shared by
every back end.

- A decision replaces the stored decision for its `comm_id` (routing again after new
  data or an override must update it; saving the same decisions twice is idempotent).
- Except that a `REJECTED` decision never replaces a decision with another status: a
  communication that was routed once stays routed when a later copy of it (a repeated
  Message-ID, a re-read archive) is rejected. The new decision is set aside in the
  `WriteResult` with a reason that starts with "duplicate".
- With `replace=False` no stored decision is replaced at all: the first decision for a
  `comm_id` is kept, every later one is set aside as a duplicate.

Inside one call the same rule applies between the call's own items, in order: a later
item replaces an earlier one (which is reported as replaced), unless the rule above
keeps the earlier one (then the later one is reported).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final, TypeVar

from stakeholder._model import Rejection
from stakeholder._routing import RouteStatus

__all__ = ["KEPT_ROUTED", "KEPT_STORED", "REPLACED_IN_BATCH", "choose_decisions", "to_check"]

X = TypeVar("X")

REPLACED_IN_BATCH: Final = "duplicate id in this batch: a later item with the same id was written"
KEPT_ROUTED: Final = (
    "duplicate: a REJECTED decision never replaces a {status} decision for the same "
    "comm_id; the earlier decision was kept"
)
KEPT_STORED: Final = (
    "duplicate: a decision for this comm_id is already stored and replace=False; "
    "the earlier decision was kept"
)
_BATCH: Final = -1


def _refusal(new: RouteStatus, old: RouteStatus, replace: bool) -> str | None:
    if not replace:
        return KEPT_STORED
    if new is RouteStatus.REJECTED and old is not RouteStatus.REJECTED:
        return KEPT_ROUTED.format(status=old.value.upper())
    return None


def to_check(
    items: Sequence[tuple[str, RouteStatus]], replace: bool
) -> list[str]:
    """The comm ids whose stored status the rule needs (none in the common case: a
    call with `replace=True` and no REJECTED decision replaces whatever is stored)."""
    if not replace:
        return sorted({comm_id for comm_id, _status in items})
    return sorted({comm_id for comm_id, status in items if status is RouteStatus.REJECTED})


def choose_decisions(
    items: Sequence[X],
    key: Callable[[X], tuple[str, RouteStatus]],
    stored: Mapping[str, RouteStatus],
    *,
    replace: bool,
) -> tuple[list[X], list[Rejection]]:
    """Which of `items` (in call order) to write, given the statuses `stored` for the
    comm ids `to_check` named; the others as rejections."""
    current: dict[str, tuple[RouteStatus, int]] = {
        comm_id: (status, _BATCH) for comm_id, status in stored.items()
    }
    keep = [True] * len(items)
    rejections: list[Rejection] = []
    for index, item in enumerate(items):
        comm_id, status = key(item)
        found = current.get(comm_id)
        if found is not None:
            old_status, old_index = found
            refusal = _refusal(status, old_status, replace)
            if refusal is not None:
                keep[index] = False
                rejections.append(Rejection.of("decisions", refusal, repr(comm_id), comm_id))
                continue
            if old_index != _BATCH:
                keep[old_index] = False
                rejections.append(
                    Rejection.of("decisions", REPLACED_IN_BATCH, repr(comm_id), comm_id)
                )
        current[comm_id] = (status, index)
    return [item for item, kept in zip(items, keep, strict=True) if kept], rejections
