"""Account hierarchy for ownership: parent links cleaned of dangling ids and cycles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from stakeholder._model import Account, Rejection
from stakeholder._ownership._text import _shown


class _Hierarchy:
    """Parent links cleaned of dangling ids and cycles, with depths for ancestor walks."""

    def __init__(
        self,
        accounts: Mapping[str, Account],
        rejected_ids: frozenset[str],
        rejections: list[Rejection],
    ) -> None:
        parent: dict[str, str] = {}
        for account_id, account in accounts.items():
            pid = account.parent_id
            if pid is None:
                continue
            if pid not in accounts:
                why = (
                    "the parent account was set aside (see its rejection)"
                    if pid in rejected_ids
                    else "no account has that id"
                )
                rejections.append(
                    Rejection.of(
                        "accounts.parent_id",
                        f"parent_id {_shown(pid)} is ignored: {why}",
                        pid,
                        account_id,
                    )
                )
                continue
            parent[account_id] = pid
        # Cycles: walk each chain once; a chain that meets itself is a cycle, and every
        # link of every cycle is dropped (the same set whatever the walking order).
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        in_cycle: list[list[str]] = []
        for start in sorted(parent):
            path: list[str] = []
            node: str | None = start
            while node is not None and state.get(node) is None:
                state[node] = 1
                path.append(node)
                node = parent.get(node)
            if node is not None and state.get(node) == 1:
                in_cycle.append(path[path.index(node) :])
            for member in path:
                state[member] = 2
        for cycle in in_cycle:
            first = cycle.index(min(cycle))
            ordered = cycle[first:] + cycle[:first]
            loop = " -> ".join(_shown(a) for a in [*ordered, ordered[0]])
            rejections.extend(
                Rejection.of(
                    "accounts.parent_id",
                    f"parent_id {_shown(parent[member])} is ignored: it is part of "
                    f"the cycle {loop}",
                    parent[member],
                    member,
                )
                for member in ordered
            )
            for member in ordered:
                del parent[member]
        self.parent = parent
        self._depth: dict[str, int] = {}

    def depth(self, account_id: str) -> int:
        depth = self._depth
        path: list[str] = []
        node: str | None = account_id
        while node is not None and node not in depth:
            path.append(node)
            node = self.parent.get(node)
        base = -1 if node is None else depth[node]
        for member in reversed(path):
            base += 1
            depth[member] = base
        return depth[account_id]

    def common_ancestor(self, account_ids: Iterable[str]) -> str | None:
        """The nearest account that is (or is an ancestor of) every one given."""
        found: str | None = None
        for account_id in account_ids:
            if found is None:
                found = account_id
                continue
            a, b = found, account_id
            da, db = self.depth(a), self.depth(b)
            while da > db:
                a, da = self.parent[a], da - 1
            while db > da:
                b, db = self.parent[b], db - 1
            while a != b:
                pa, pb = self.parent.get(a), self.parent.get(b)
                if pa is None or pb is None:
                    return None
                a, b = pa, pb
            found = a
        return found


