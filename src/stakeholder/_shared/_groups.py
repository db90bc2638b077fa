"""Finding shared contacts: records of one person in several accounts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from stakeholder._display import (
    repr_pretty,
    shared_contacts_html,
    shared_contacts_repr,
    shared_group_html,
    shared_group_repr,
)
from stakeholder._errors import ConfigurationError, InvalidPhone
from stakeholder._identity import EmailAddress, phone_region
from stakeholder._model import Account, Contact, Rejection
from stakeholder._progress import Progress, ProgressTicker
from stakeholder._shared._match import MatchOn, _to_match_on
from stakeholder._shared._phones import _e164_or_error
from stakeholder._shared._ranking import (
    DEFAULT_CASCADE,
    AccountsArg,
    PrimaryRanking,
    RankingCriterion,
    _full_cascade,
    _rank,
)

# --------------------------------------------------------------------------- groups


@attrs.frozen
class MatchLink:
    """One value shared by several records of a group: how they matched."""

    kind: str
    """`"email"`, `"phone"` or `"email+phone"`."""
    value: str
    record_ids: tuple[str, ...]

    def explain(self) -> str:
        return f"{self.kind} {self.value} ({', '.join(self.record_ids)})"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "record_ids": list(self.record_ids)}


@attrs.frozen
class SharedContactGroup:
    """The records of one person found in two or more distinct accounts.

    `key` identifies the person (its smallest email, else its smallest phone; for
    `EMAIL_AND_PHONE` the pair `email|phone`). `records` are sorted by account id then
    record id; `account_ids` are the distinct accounts, sorted; `ranking` orders the
    records (its first is the `primary`); `links` say which values linked which
    records; `match_keys` are the values that linked them; `emails` and `phones` are
    every canonical email and E.164 phone of its records, whatever the match mode.
    """

    key: str
    records: tuple[Contact, ...]
    account_ids: tuple[str, ...]
    ranking: PrimaryRanking
    links: tuple[MatchLink, ...]
    match_on: MatchOn
    match_keys: tuple[str, ...] = ()
    """The values that linked the records (emails, phones or `email|phone` pairs)."""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    account_names: tuple[tuple[str, str], ...] = ()
    """(account id, name) for the accounts whose names were given."""

    __repr__ = shared_group_repr
    _repr_html_ = shared_group_html
    _repr_pretty_ = repr_pretty

    @property
    def primary(self) -> Contact:
        """The record in the primary account."""
        return self.ranking.primary

    @property
    def primary_account_id(self) -> str:
        return self.ranking.primary.account_id

    @property
    def secondaries(self) -> tuple[Contact, ...]:
        """Every other record, best first."""
        return self.ranking.records[1:]

    @property
    def identifiers(self) -> frozenset[str]:
        """The match keys of this group (emails and/or phones, or `email|phone` pairs)."""
        return frozenset(self.match_keys)

    def _name(self, account_id: str) -> str:
        return dict(self.account_names).get(account_id, account_id)

    def explain(self) -> str:
        accounts = ", ".join(self._name(a) for a in self.account_ids)
        links = "; ".join(link.explain() for link in self.links)
        return (
            f"{self.key}: {len(self.records)} records in {len(self.account_ids)} accounts "
            f"({accounts}), matched on {self.match_on.value}: {links}. "
            f"Primary: {self._name(self.primary_account_id)} (record {self.primary.id}): "
            f"{self.ranking.explain()}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "match_on": self.match_on.value,
            "record_ids": [c.id for c in self.records],
            "account_ids": list(self.account_ids),
            "primary_id": self.primary.id,
            "primary_account_id": self.primary_account_id,
            "emails": list(self.emails),
            "phones": list(self.phones),
            "links": [link.to_dict() for link in self.links],
            "ranking": self.ranking.to_dict(),
            "explanation": self.explain(),
        }


@attrs.frozen
class SharedContactReport:
    """What `find_shared_contacts` looked at, set aside and found.

    `received` items in; `out_of_scope` outside `within`; `ignored` in scope but with
    no usable email/phone for the match mode; `rejections` each invalid value or
    unusable record (an invalid email or phone is reported and the record still
    matches on its other value); `single_account` components of several records that
    all sit in one account (duplicates, not shared).
    """

    received: int = 0
    out_of_scope: int = 0
    ignored: int = 0
    matched_records: int = 0
    groups: int = 0
    single_account: int = 0
    rejections: tuple[Rejection, ...] = ()

    def explain(self) -> str:
        return (
            f"{self.received} records: {self.groups} shared people over "
            f"{self.matched_records} records; {self.out_of_scope} out of scope, "
            f"{self.ignored} without a usable email/phone, {self.single_account} "
            f"duplicate sets within one account, {len(self.rejections)} rejected values"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "out_of_scope": self.out_of_scope,
            "ignored": self.ignored,
            "matched_records": self.matched_records,
            "groups": self.groups,
            "single_account": self.single_account,
            "rejections": [r.to_dict() for r in self.rejections],
        }


class SharedContacts(list[SharedContactGroup]):
    """What `find_shared_contacts` returns: a `list[SharedContactGroup]` (sorted by
    key) that also carries the `report` (counts and rejections)."""

    __repr__ = shared_contacts_repr
    _repr_html_ = shared_contacts_html

    __slots__ = ("report",)

    def __init__(
        self,
        groups: Iterable[SharedContactGroup] = (),
        report: SharedContactReport | None = None,
    ) -> None:
        super().__init__(groups)
        self.report = report if report is not None else SharedContactReport()

    def explain(self) -> str:
        lines = [self.report.explain()]
        lines.extend(group.explain() for group in self)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"groups": [g.to_dict() for g in self], "report": self.report.to_dict()}


def _account_index(accounts: AccountsArg) -> tuple[dict[str, Account], list[Rejection]]:
    """Accounts by id. Identical duplicates count once; conflicting ones are all set
    aside (whatever their order), so their contacts become dangling references."""
    if accounts is None:
        return {}, []
    items: Iterable[object] = accounts.values() if isinstance(accounts, Mapping) else accounts
    by_id: dict[str, list[Account]] = defaultdict(list)
    rejections: list[Rejection] = []
    for item in items:
        if not isinstance(item, Account):
            rejections.append(Rejection.of("account", "expected an Account", item))
            continue
        by_id[item.id].append(item)
    index: dict[str, Account] = {}
    for account_id, found in by_id.items():
        if all(a == found[0] for a in found[1:]):
            index[account_id] = found[0]
        else:
            rejections.append(
                Rejection.of(
                    "account",
                    f"{len(found)} different accounts share this id; none is used",
                    account_id,
                    account_id,
                )
            )
    return index, rejections


def _descendants(index: Mapping[str, Account], root: str) -> frozenset[str]:
    children: dict[str, list[str]] = defaultdict(list)
    for account in index.values():
        if account.parent_id is not None:
            children[account.parent_id].append(account.id)
    seen: set[str] = set()
    stack = list(children.get(root, ()))
    while stack:
        account_id = stack.pop()
        if account_id in seen or account_id == root:
            continue
        seen.add(account_id)
        stack.extend(children.get(account_id, ()))
    return frozenset(seen)


def _dedupe_contacts(items: Iterable[object]) -> tuple[list[Contact], list[Rejection], int]:
    """Contacts with unique ids. Identical repeats count once (one rejection each);
    different records under one id are all set aside, whatever their order."""
    by_id: dict[str, Contact] = {}
    repeats: dict[str, list[Contact]] = {}
    rejections: list[Rejection] = []
    received = 0
    for item in items:
        received += 1
        if not isinstance(item, Contact):
            rejections.append(Rejection.of("contact", "expected a Contact", item))
            continue
        first = by_id.get(item.id)
        if first is None:
            by_id[item.id] = item
        else:
            repeats.setdefault(item.id, [first]).append(item)
    for contact_id, found in repeats.items():
        if all(c == found[0] for c in found[1:]):
            rejections.extend(
                Rejection.of(
                    "contact", "an identical repeat of another record; counted once",
                    contact_id, contact_id,
                )
                for _ in found[1:]
            )
        else:
            del by_id[contact_id]
            rejections.append(
                Rejection.of(
                    "contact",
                    f"{len(found)} different records share this id; none is used",
                    contact_id,
                    contact_id,
                )
            )
    return list(by_id.values()), rejections, received


@attrs.frozen
class _Scan:
    """The working state of one `find_shared_contacts` call (private)."""

    groups: SharedContacts
    in_scope: tuple[Contact, ...]
    accounts: dict[str, Account]
    phones: dict[str, str]


def _scan(
    contacts: Iterable[Contact],
    match_on: MatchOn | str,
    *,
    accounts: AccountsArg,
    within: str | None,
    default_region: str | None,
    cascade: Iterable[RankingCriterion],
    exclude: Callable[[Contact], bool] | None = None,
    within_name: str = "within",
    progress: Progress | None = None,
) -> _Scan:
    mode = _to_match_on(match_on)
    steps = _full_cascade(cascade)
    index, rejections = _account_index(accounts)
    scope: frozenset[str] | None = None
    if within is not None:
        if accounts is None:
            raise ConfigurationError(f"{within_name}= needs accounts= to know the account tree")
        if within not in index:
            raise ConfigurationError(f"{within_name}={within!r} is not among the accounts")
        scope = _descendants(index, within)
    if default_region is not None:
        if not isinstance(default_region, str):
            raise ConfigurationError(f"default_region must be a string, not {default_region!r}")
        default_region = default_region.strip().upper() or None
        if default_region is not None:
            default_region = phone_region(default_region)
    records, dup_rejections, received = _dedupe_contacts(contacts)
    rejections.extend(dup_rejections)
    ticker = ProgressTicker(progress, len(records), every=10_000)

    use_email, use_phone = mode.uses_email, mode.uses_phone
    both = mode is MatchOn.EMAIL_AND_PHONE
    memo: dict[str, str | InvalidPhone] = {}
    e164_of: dict[str, str] = {}
    in_scope: list[Contact] = []
    keyed: list[Contact] = []
    keys: list[tuple[str, ...]] = []
    out_of_scope = ignored = 0
    tick = None if progress is None else ticker.advance
    for contact in records:
        if tick is not None:
            tick()
        if exclude is not None and exclude(contact):
            out_of_scope += 1
            continue
        if accounts is not None and contact.account_id not in index:
            rejections.append(
                Rejection.of(
                    "contact.account_id",
                    "the account is not among the accounts",
                    contact.account_id,
                    contact.id,
                )
            )
            continue
        if scope is not None and contact.account_id not in scope:
            out_of_scope += 1
            continue
        in_scope.append(contact)
        email: str | None = None
        phone: str | None = None
        if use_email:
            value = contact.email
            if isinstance(value, EmailAddress):
                email = f"{value.local}@{value.domain}"
            elif value is not None:
                rejections.append(
                    Rejection.of(
                        "contact.email", contact.email_error or "not an email address",
                        value, contact.id,
                    )
                )
        if use_phone and contact.phone is not None:
            raw = contact.phone
            result = memo.get(raw)
            if result is None:
                result = memo[raw] = _e164_or_error(raw, default_region)
            if isinstance(result, str):
                phone = result
                e164_of[contact.id] = result
            else:
                rejections.append(
                    Rejection.of("contact.phone", result.reason, raw, contact.id)
                )
        if both:
            found: tuple[str, ...] = (f"{email}|{phone}",) if email and phone else ()
        elif email and phone:
            found = (email, phone)
        elif email:
            found = (email,)
        elif phone:
            found = (phone,)
        else:
            found = ()
        if found:
            keyed.append(contact)
            keys.append(found)
        else:
            ignored += 1

    # union-find over records; a key's first record stands for it
    parent = list(range(len(keyed)))
    owner: dict[str, int] = {}
    linked: list[int] = []
    for i, found in enumerate(keys):
        for key in found:
            j = owner.setdefault(key, i)
            if j == i:
                continue
            # find roots (path halving) and join the larger root under the smaller
            a = i
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            b = j
            while parent[b] != b:
                parent[b] = parent[parent[b]]
                b = parent[b]
            if a != b:
                if a < b:
                    parent[b] = a
                else:
                    parent[a] = b
            linked.append(i)
            linked.append(j)
    members: dict[int, list[int]] = defaultdict(list)
    for i in set(linked):
        a = i
        while parent[a] != a:
            a = parent[a]
        members[a].append(i)

    names = {account_id: account.name for account_id, account in index.items()}
    groups: list[SharedContactGroup] = []
    matched = single_account = 0
    for component in members.values():
        group_records = [keyed[i] for i in component]
        account_ids = sorted({c.account_id for c in group_records})
        if len(account_ids) < 2:
            single_account += 1
            continue
        matched += len(group_records)
        group_keys = {k for i in component for k in keys[i]}
        groups.append(
            _build_group(
                group_records,
                record_keys=[keys[i] for i in component],
                group_keys=group_keys,
                account_ids=account_ids,
                mode=mode,
                cascade=steps,
                names=names,
                e164_of=e164_of,
                region=default_region,
            )
        )
    ticker.close()
    groups.sort(key=lambda g: g.key)
    rejections.sort(key=lambda r: (r.record_id or "", r.where, r.reason, r.raw))
    report = SharedContactReport(
        received=received,
        out_of_scope=out_of_scope,
        ignored=ignored,
        matched_records=matched,
        groups=len(groups),
        single_account=single_account,
        rejections=tuple(rejections),
    )
    return _Scan(SharedContacts(groups, report), tuple(in_scope), index, e164_of)


def _build_group(
    records: list[Contact],
    *,
    record_keys: list[tuple[str, ...]],
    group_keys: set[str],
    account_ids: list[str],
    mode: MatchOn,
    cascade: tuple[RankingCriterion, ...],
    names: Mapping[str, str],
    e164_of: Mapping[str, str],
    region: str | None,
) -> SharedContactGroup:
    by_key: dict[str, list[str]] = defaultdict(list)
    for record, found in zip(records, record_keys, strict=True):
        for key in found:
            by_key[key].append(record.id)
    emails = sorted({str(c.email_address) for c in records if c.email_address is not None})
    phones: set[str] = set()
    for c in records:
        if c.id in e164_of:
            phones.add(e164_of[c.id])
        elif c.phone is not None and mode is MatchOn.EMAIL:  # shown, not used to match
            value = _e164_or_error(c.phone, region)
            if isinstance(value, str):
                phones.add(value)
    if mode is MatchOn.EMAIL_AND_PHONE or mode is MatchOn.PHONE:
        key = min(group_keys)
    else:
        key = min((k for k in group_keys if "@" in k), default=None) or min(group_keys)

    def kind(key: str) -> str:
        if mode is MatchOn.EMAIL_AND_PHONE:
            return "email+phone"
        return "email" if "@" in key else "phone"

    links = tuple(
        MatchLink(kind(k), k, tuple(sorted(ids)))
        for k, ids in sorted(by_key.items(), key=lambda kv: (kind(kv[0]), kv[0]))
        if len(ids) > 1
    )
    ordered = tuple(sorted(records, key=lambda c: (c.account_id, c.id)))
    return SharedContactGroup(
        key=key,
        records=ordered,
        account_ids=tuple(account_ids),
        ranking=_rank(ordered, cascade, names),
        links=links,
        match_on=mode,
        match_keys=tuple(sorted(group_keys)),
        emails=tuple(emails),
        phones=tuple(sorted(phones)),
        account_names=tuple((a, names[a]) for a in account_ids if a in names),
    )


def find_shared_contacts(
    contacts: Iterable[Contact],
    match_on: MatchOn | str = MatchOn.EMAIL_OR_PHONE,
    *,
    accounts: AccountsArg = None,
    within: str | None = None,
    default_region: str | None = None,
    cascade: Iterable[RankingCriterion] = DEFAULT_CASCADE,
    progress: Progress | None = None,
) -> SharedContacts:
    """Records of one person in two or more distinct accounts, linked transitively.

    Returns a `SharedContacts`: a `list[SharedContactGroup]` sorted by key, with a
    `.report` (counts and `Rejection`s). Invalid emails and phones are reported, not
    raised; records with no usable value for `match_on` are counted as `ignored`.

    - `accounts` (ids and names) is needed for `within` and gives names to
      explanations; when given, contacts of unknown accounts are rejected.
    - `within`: only the descendants (children, grandchildren, ...) of this corporate
      account are considered, not the account itself.
    - `default_region` reads national phone numbers ("020 7946 0018" with `"GB"`).
    - `cascade` ranks each group's records (see `rank_primary`).
    - `progress(done, total)` is called as records are scanned (every 10,000 and at
      the end; `total` is the number of distinct records).

    Raises `ConfigurationError` for an unknown `match_on`, `within` without `accounts`
    or a `within` that is not among them.
    """
    return _scan(
        contacts,
        match_on,
        accounts=accounts,
        within=within,
        default_region=default_region,
        cascade=cascade,
        progress=progress,
    ).groups


def primary_accounts(groups: Iterable[SharedContactGroup]) -> dict[str, str]:
    """Canonical email (`str(EmailAddress)`) -> primary account id, for each shared person.

    The hand-off to routing (`RoutingIndex.build(..., shared=...)`): every email of a
    group maps to that group's primary account. An email found in two groups with
    different primary accounts (possible only with `EMAIL_AND_PHONE`) is left out.
    """
    found: dict[str, set[str]] = defaultdict(set)
    for group in groups:
        for email in group.emails:
            found[email].add(group.primary_account_id)
    return {email: next(iter(ids)) for email, ids in sorted(found.items()) if len(ids) == 1}
