"""The value strategies and helpers of the storage contract suite (see
`stakeholder.testing.contract`, which re-exports the public ones)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from hypothesis import strategies as st

from stakeholder._model import Account, AccountKind, AccountStatus, CommKind, Contact, Role
from stakeholder._ownership import SyncIssue
from stakeholder._routing import (
    Evidence,
    EvidenceKind,
    Override,
    RouteStatus,
    RoutingDecision,
    Strength,
)
from stakeholder.storage._protocols import Store
from stakeholder.storage._records import RunRecord, WriteResult
from stakeholder.testing import strategies as sst

#: A callable returning a fresh, empty store.
StoreFactory = Callable[[], Store]

SearchStrategy = st.SearchStrategy

#: Strings that break code which builds SQL or JSON by hand, or mishandles unicode.
NASTY_STRINGS: Final = (
    "'",
    '"',
    "''",
    "`",
    ";",
    "--",
    "/*",
    "*/",
    "%",
    "%s",
    "%(name)s",
    "?",
    "?1",
    ":name",
    "$1",
    "_",
    "\\",
    "\\'",
    "' OR '1'='1",
    "'; DROP TABLE accounts; --",
    'Robert"); DROP TABLE contacts;--',
    "NULL",
    "null",
    "[]",
    "{}",
    '{"a": [1, "\\u0000"]}',
    "\t",
    "\n",
    "\r\n",
    " leading and trailing ",
    "é",
    "e\u0301",
    "ß",
    "ǅ",
    "İ",
    "\u200b",
    "\u202e",
    "\ufeff",
    "日本語",
    "пример",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "💥",
    "👩‍👩‍👧",
)

_ALPHABET: Final = st.characters(codec="utf-8", exclude_characters="\x00")
_ZONES: Final = (
    dt.UTC,
    dt.timezone(dt.timedelta(hours=2)),
    dt.timezone(dt.timedelta(hours=-11, minutes=-30)),
    dt.timezone(dt.timedelta(hours=5, minutes=45)),
    dt.timezone(dt.timedelta(hours=23, minutes=59, seconds=59, microseconds=999)),
)


_DOMAINS: Final = ("acme.com", "globex.co.uk", "xn--bcher-kva.de", "sub.example.org")


def texts(*, min_size: int = 0, long: bool = True) -> SearchStrategy[str]:
    """Storable text: any characters but NUL and lone surrogates, often hostile
    (`NASTY_STRINGS`), sometimes 10,000 characters long (`long=True`)."""
    parts: list[SearchStrategy[str]] = [
        st.sampled_from(NASTY_STRINGS),
        st.text(_ALPHABET, min_size=max(min_size, 0), max_size=12),
        st.lists(st.sampled_from(NASTY_STRINGS), min_size=2, max_size=4).map("".join),
    ]
    if long:
        parts.append(
            st.text(_ALPHABET, min_size=1, max_size=5).map(lambda s: (s * 10_000)[:10_000])
        )
    strategy = st.one_of(*parts)
    return strategy.filter(lambda s: len(s) >= min_size) if min_size else strategy


def keys(*, long: bool = True) -> SearchStrategy[str]:
    """Ids and tenants: non-empty storable strings, hostile ones included."""
    return texts(min_size=1, long=long)


def aware_datetimes() -> SearchStrategy[dt.datetime]:
    """Timezone-aware datetimes over the whole range, with odd fixed offsets."""
    return st.datetimes(
        min_value=dt.datetime(1, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.sampled_from(_ZONES),
    )


def _names() -> SearchStrategy[str]:
    return texts(long=True).filter(lambda s: bool(s.strip()))


def accounts(*, ids: SearchStrategy[str] | None = None) -> SearchStrategy[Account]:
    """Accounts with hostile ids, names, aliases and parent ids (never its own)."""
    id_strategy = ids if ids is not None else keys()

    @st.composite
    def build(draw: st.DrawFn) -> Account:
        account_id = draw(id_strategy)
        parent = draw(st.none() | keys(long=False).filter(lambda p: p != account_id))
        strategy = sst.accounts(
            ids=st.just(account_id),
            names=_names(),
            kinds=st.sampled_from(AccountKind),
            statuses=st.sampled_from(AccountStatus),
            parent_ids=st.just(parent),
            domains=st.frozensets(st.sampled_from(_DOMAINS), max_size=2),
            aliases=st.frozensets(texts(long=False), max_size=3),
        )
        return draw(strategy)

    return build()


def contacts(
    *, ids: SearchStrategy[str] | None = None, account_ids: SearchStrategy[str] | None = None
) -> SearchStrategy[Contact]:
    """Contacts with hostile ids and text, valid and unparsable emails, 64-bit counts."""
    big = st.integers(min_value=0, max_value=2**63 - 1)
    return sst.contacts(
        ids=ids if ids is not None else keys(),
        account_ids=account_ids if account_ids is not None else keys(),
        emails=st.none() | sst.emails() | texts(long=False),
        phones=st.none() | sst.phones() | texts(long=False),
        names=st.none() | texts(),
        titles=st.none() | texts(long=False),
        created_at=st.none() | aware_datetimes(),
        conversions=st.integers(min_value=0, max_value=5) | big,
        first_conversion_at=st.none() | aware_datetimes(),
        deal_stages=st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
        tags=st.frozensets(texts(long=False), max_size=3),
    )


def _evidence() -> SearchStrategy[Evidence]:
    return st.builds(
        Evidence,
        kind=st.sampled_from(EvidenceKind),
        strength=st.sampled_from(Strength),
        account_ids=st.lists(keys(long=False), max_size=3).map(tuple),
        address=st.none() | texts(long=False),
        role=st.none() | st.sampled_from(Role),
        detail=texts(long=False),
    )


def decisions(
    *,
    comm_ids: SearchStrategy[str] | None = None,
    account_ids: SearchStrategy[str] | None = None,
    occurred_at: SearchStrategy[dt.datetime | None] | None = None,
) -> SearchStrategy[RoutingDecision]:
    """Routing decisions with evidence, hostile ids and text, and `occurred_at` present
    or not (a decision may belong to the same account twice in `account_ids`)."""
    account_strategy = account_ids if account_ids is not None else keys()
    return st.builds(
        RoutingDecision,
        comm_id=comm_ids if comm_ids is not None else keys(),
        status=st.sampled_from(RouteStatus),
        account_ids=st.lists(account_strategy, max_size=3).map(tuple),
        candidates=st.lists(account_strategy, max_size=3).map(tuple),
        evidence=st.lists(_evidence(), max_size=3).map(tuple),
        rule=texts(long=False),
        confidence=st.floats(min_value=0.0, max_value=1.0),
        occurred_at=occurred_at if occurred_at is not None else st.none() | aware_datetimes(),
        thread_id=st.none() | keys(long=False),
        kind=st.sampled_from(CommKind),
        subject=texts(),
        reason=texts(long=False),
    )


def overrides(
    *,
    targets: SearchStrategy[str] | None = None,
    account_ids: SearchStrategy[str] | None = None,
    at: SearchStrategy[dt.datetime] | None = None,
) -> SearchStrategy[Override]:
    """Overrides of a communication or of a thread (`targets` draws both ids)."""
    target = targets if targets is not None else keys()
    return st.builds(
        lambda ids, author, reason, when, t, thread: Override(
            ids, author, reason, when, comm_id=None if thread else t,
            thread_id=t if thread else None,
        ),
        st.lists(account_ids if account_ids is not None else keys(), max_size=3).map(tuple),
        texts(long=False),
        texts(),
        at if at is not None else aware_datetimes(),
        target,
        st.booleans(),
    )


def _kinds() -> dict[str, SearchStrategy[Any]]:
    """`kind=` for `SyncIssue`, drawn from its enum, where the value has the field."""
    kind = getattr(SyncIssue("d", ("a", "b"), "r", "s"), "kind", None)
    return {} if kind is None else {"kind": st.sampled_from(type(kind))}


def sync_issues(*, domains: SearchStrategy[str] | None = None) -> SearchStrategy[SyncIssue]:
    """Sync issues keyed by (hostile) domain strings."""
    return st.builds(
        SyncIssue,
        domain=domains if domains is not None else keys(),
        account_ids=st.lists(keys(long=False), max_size=3).map(tuple),
        reason=texts(),
        suggestion=texts(long=False),
        **_kinds(),
    )


def runs(
    *, run_ids: SearchStrategy[str] | None = None, at: SearchStrategy[dt.datetime] | None = None
) -> SearchStrategy[RunRecord]:
    """Run-log records with hostile ids, text and count names."""
    return st.builds(
        RunRecord,
        run_id=run_ids if run_ids is not None else keys(),
        at=at if at is not None else aware_datetimes(),
        operation=texts(long=False),
        counts=st.dictionaries(texts(long=False), st.integers(-(2**63), 2**63 - 1), max_size=3),
        note=texts(),
    )


# --------------------------------------------------------------------------- reading back


def store_contents(store: Store, tenant: str, *, account_ids: Sequence[str] = ()) -> dict[str, Any]:
    """Everything `store` shows for `tenant`, as comparable data: every list, count and
    the timeline of each of `account_ids`."""
    return {
        "accounts": store.accounts.list(tenant),
        "accounts.count": store.accounts.count(tenant),
        "contacts": store.contacts.list(tenant),
        "contacts.count": store.contacts.count(tenant),
        "decisions": store.decisions.list(tenant),
        "decisions.count": store.decisions.count(tenant),
        "timelines": {a: store.decisions.timeline(tenant, a) for a in sorted(set(account_ids))},
        "overrides.history": store.overrides.history(tenant),
        "overrides.active": store.overrides.active(tenant),
        "overrides.count": store.overrides.count(tenant),
        "sync_issues": store.sync_issues.list(tenant),
        "sync_issues.count": store.sync_issues.count(tenant),
        "runs": store.runs.list(tenant),
        "runs.count": store.runs.count(tenant),
    }


def _empty(contents: Mapping[str, Any]) -> bool:
    return all(
        not value if not isinstance(value, dict) else all(not v for v in value.values())
        for value in contents.values()
    )


def _timeline_model(
    decisions: Sequence[RoutingDecision], account_id: str
) -> list[RoutingDecision]:
    def order(d: RoutingDecision) -> tuple[bool, dt.timedelta, str]:
        at = d.occurred_at
        zero = dt.timedelta(0)
        return (at is None, zero if at is None else at - _EPOCH, d.comm_id)

    return sorted((d for d in decisions if account_id in d.account_ids), key=order)


_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _target(override: Override) -> tuple[bool, str]:
    return (override.comm_id is None, override.comm_id or override.thread_id or "")


def _unique(items: Sequence[Any], attribute: str) -> list[Any]:
    """The last item for each key, in first-seen key order (what a batch write keeps)."""
    last: dict[Any, Any] = {}
    for item in items:
        last[getattr(item, attribute)] = item
    return list(last.values())


def _decisions_kept(
    items: Sequence[RoutingDecision], stored: Sequence[RoutingDecision] = (), *,
    replace: bool = True,
) -> list[RoutingDecision]:
    """The model of the rule for a repeated comm_id: a later decision replaces an
    earlier one, except that a REJECTED one never replaces another status, and with
    `replace=False` the first one stays. `stored` are there before; the new ones kept."""
    current: dict[str, RoutingDecision] = {d.comm_id: d for d in stored}
    written: dict[str, RoutingDecision] = {}
    for item in items:
        old = current.get(item.comm_id)
        if old is not None and (
            not replace
            or (item.status is RouteStatus.REJECTED and old.status is not RouteStatus.REJECTED)
        ):
            continue
        current[item.comm_id] = written[item.comm_id] = item
    return list(written.values())


#: A published MD5 collision of printable text (Marc Stevens, 2024: 72 bytes, one byte
#: apart); back ends that key on md5 merge the two.
MD5_COLLIDING_PAIR: Final = (
    "TEXTCOLLBYfGiJUETHQ4hAcKSMd5zYpgqf1YRDhkmxHkhPWptrkoyz28wnI9V0aHeAuaKnak",
    "TEXTCOLLBYfGiJUETHQ4hEcKSMd5zYpgqf1YRDhkmxHkhPWptrkoyz28wnI9V0aHeAuaKnak",
)


def _comparable(result: object) -> object:
    """A result as the suite compares it: a `WriteResult` by its count and the order
    and record ids of its rejections (a back end words its reasons as it likes)."""
    if isinstance(result, WriteResult):
        return (result.written, _rejected_ids(result))
    return result


def _rejected_ids(result: WriteResult) -> list[str | None]:
    """What the suite compares of rejections: their order and record ids (not the
    wording of the reasons, which a back end may choose)."""
    return [r.record_id for r in result.rejections]


class _AbortedBatchError(Exception):
    """Raised on purpose inside a batch."""
