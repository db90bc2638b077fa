"""Planning the tags and corporate copies that say who is shared."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from stakeholder._display import attrs_html, attrs_repr, repr_pretty
from stakeholder._errors import ConfigurationError
from stakeholder._model import Account, Contact
from stakeholder._progress import Progress
from stakeholder._shared._groups import SharedContactGroup, SharedContactReport, _scan
from stakeholder._shared._match import MatchOn, _to_match_on
from stakeholder._shared._ranking import DEFAULT_CASCADE, RankingCriterion
from stakeholder._shared._tags import (
    _SYSTEM_TAGS,
    COPY_ID_PREFIX,
    ENGAGING_TAG_PREFIX,
    PRIMARY_TAG,
    SECONDARY_TAG,
)

# --------------------------------------------------------------------------- plan


def engaging_tag(account_name: str, *, primary: bool = False) -> str:
    """`engaging-in-<Account Name>` (plus `-primary`), the name kept as it is."""
    return f"{ENGAGING_TAG_PREFIX}{account_name}{'-primary' if primary else ''}"


def copy_contact_id(corporate_account_id: str, key: str) -> str:
    """The id of the corporate copy of the person `key`: deterministic, so planning twice
    gives the same id and an applied copy is recognised on the next run."""
    return f"{COPY_ID_PREFIX}{corporate_account_id}:{key}"


@attrs.frozen
class TagChange:
    """Tags to add to and remove from one contact record."""

    contact_id: str
    account_id: str
    add: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()
    reason: str = ""

    def explain(self) -> str:
        parts = []
        if self.add:
            parts.append("add " + ", ".join(sorted(self.add)))
        if self.remove:
            parts.append("remove " + ", ".join(sorted(self.remove)))
        return f"{self.contact_id} ({self.account_id}): {'; '.join(parts)}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "account_id": self.account_id,
            "add": sorted(self.add),
            "remove": sorted(self.remove),
            "reason": self.reason,
        }


class CopyAction(enum.StrEnum):
    """What happens to a corporate copy."""

    CREATE = "create"
    UPDATE = "update"
    REMOVE = "remove"


def _contact_dict(c: Contact) -> dict[str, Any]:
    return {
        "id": c.id,
        "account_id": c.account_id,
        "email": None if c.email is None else str(c.email),
        "phone": c.phone,
        "name": c.name,
        "title": c.title,
        "tags": sorted(c.tags),
    }


@attrs.frozen
class CorporateCopy:
    """One change to the copies in the corporate account.

    `contact` is the copy as it should be (`CREATE`, `UPDATE`) or as it is (`REMOVE`);
    `changed` names the fields an update changes.
    """

    action: CopyAction
    contact: Contact
    group_key: str | None = None
    changed: tuple[str, ...] = ()
    reason: str = ""

    __repr__ = attrs_repr

    def explain(self) -> str:
        text = f"{self.action.value} {self.contact.id}"
        if self.changed:
            text += f" ({', '.join(self.changed)})"
        return f"{text}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "contact": _contact_dict(self.contact),
            "group_key": self.group_key,
            "changed": list(self.changed),
            "reason": self.reason,
        }


@attrs.frozen
class SharedContactPlan:
    """What to change so that tags and corporate copies match the shared contacts.

    Empty (`is_empty`) when everything is already right: planning, applying the plan
    and planning again yields an empty plan.
    """

    groups: tuple[SharedContactGroup, ...]
    tag_changes: tuple[TagChange, ...]
    copies: tuple[CorporateCopy, ...]
    report: SharedContactReport
    tags: tuple[str, ...] = ()
    corporate_account_id: str | None = None
    copy_to_corporate: bool = False
    match_on: MatchOn = MatchOn.EMAIL_OR_PHONE
    engaging_both: bool = False

    __repr__ = attrs_repr
    _repr_html_ = attrs_html
    _repr_pretty_ = repr_pretty

    @property
    def is_empty(self) -> bool:
        return not self.tag_changes and not self.copies

    def counts(self) -> dict[str, int]:
        return {
            "shared_people": len(self.groups),
            "tag_changes": len(self.tag_changes),
            "copies_create": sum(c.action is CopyAction.CREATE for c in self.copies),
            "copies_update": sum(c.action is CopyAction.UPDATE for c in self.copies),
            "copies_remove": sum(c.action is CopyAction.REMOVE for c in self.copies),
            "rejections": len(self.report.rejections),
        }

    def explain(self) -> str:
        n = self.counts()
        lines = [
            f"{n['shared_people']} shared people; {n['tag_changes']} records to re-tag; "
            f"copies: {n['copies_create']} to create, {n['copies_update']} to update, "
            f"{n['copies_remove']} to remove; {n['rejections']} rejected values"
        ]
        lines.extend(change.explain() for change in self.tag_changes)
        lines.extend(copy.explain() for copy in self.copies)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": {
                "tags": list(self.tags),
                "corporate_account_id": self.corporate_account_id,
                "copy_to_corporate": self.copy_to_corporate,
                "match_on": self.match_on.value,
                "engaging_both": self.engaging_both,
            },
            "counts": self.counts(),
            "groups": [g.to_dict() for g in self.groups],
            "tag_changes": [t.to_dict() for t in self.tag_changes],
            "copies": [c.to_dict() for c in self.copies],
            "report": self.report.to_dict(),
        }


def _user_tags(tags: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(tags, str):
        tags = (tags,)
    out: set[str] = set()
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise ConfigurationError(f"a tag must be a non-empty string, not {tag!r}")
        text = tag.strip()
        if text in _SYSTEM_TAGS or text.startswith(ENGAGING_TAG_PREFIX):
            raise ConfigurationError(f"{text!r} is a system tag; choose another user tag")
        out.add(text)
    return tuple(sorted(out))


def _is_copy_of(corporate_account_id: str) -> Callable[[Contact], bool]:
    prefix = f"{COPY_ID_PREFIX}{corporate_account_id}:"

    def is_copy(contact: Contact) -> bool:
        return contact.account_id == corporate_account_id and contact.id.startswith(prefix)

    return is_copy


def _first(values: Iterator[Any]) -> Any:
    return next((v for v in values if v is not None), None)


def _desired_copy(
    group: SharedContactGroup,
    *,
    corporate_account_id: str,
    copy_id: str,
    user_tags: tuple[str, ...],
    accounts: Mapping[str, Account],
    e164_of: Mapping[str, str],
    engaging_both: bool,
) -> Contact:
    ranked = group.ranking.records
    tags = set(user_tags)
    for account_id in group.account_ids:
        primary = account_id == group.primary_account_id
        if engaging_both or not primary:
            tags.add(engaging_tag(accounts[account_id].name))
        if primary:
            tags.add(engaging_tag(accounts[account_id].name, primary=True))
    return Contact(
        id=copy_id,
        account_id=corporate_account_id,
        email=_first(c.email_address for c in ranked),
        phone=_first(e164_of.get(c.id) for c in ranked),
        name=_first(c.name for c in ranked),
        title=_first(c.title for c in ranked),
        tags=frozenset(tags),
    )


def _plan_copies(
    groups: Sequence[SharedContactGroup],
    *,
    existing: Iterable[Contact],
    corporate_account_id: str,
    user_tags: tuple[str, ...],
    accounts: Mapping[str, Account],
    e164_of: Mapping[str, str],
    engaging_both: bool,
) -> list[CorporateCopy]:
    prefix = f"{COPY_ID_PREFIX}{corporate_account_id}:"
    group_of_identifier: dict[str, SharedContactGroup] = {}
    for group in groups:
        for identifier in group.identifiers:
            group_of_identifier.setdefault(identifier, group)
    claims: dict[str, list[Contact]] = defaultdict(list)
    changes: list[CorporateCopy] = []
    for copy in sorted(existing, key=lambda c: c.id):
        matched = group_of_identifier.get(copy.id[len(prefix) :])
        if matched is None:
            changes.append(
                CorporateCopy(CopyAction.REMOVE, copy, None, (), "the person is no longer shared")
            )
        else:
            claims[matched.key].append(copy)
    for group in groups:
        wanted_id = copy_contact_id(corporate_account_id, group.key)
        found = claims.get(group.key, [])
        keep = next((c for c in found if c.id == wanted_id), found[0] if found else None)
        changes.extend(
            CorporateCopy(
                CopyAction.REMOVE, other, group.key, (),
                f"another copy ({keep.id if keep else wanted_id}) stands for this person",
            )
            for other in found
            if other is not keep
        )
        desired = _desired_copy(
            group,
            corporate_account_id=corporate_account_id,
            copy_id=keep.id if keep else wanted_id,
            user_tags=user_tags,
            accounts=accounts,
            e164_of=e164_of,
            engaging_both=engaging_both,
        )
        if keep is None:
            changes.append(
                CorporateCopy(
                    CopyAction.CREATE, desired, group.key, (),
                    f"shared by {len(group.account_ids)} child accounts",
                )
            )
            continue
        stale = {t for t in keep.tags if t.startswith(ENGAGING_TAG_PREFIX)} - desired.tags
        updated = attrs.evolve(
            keep,
            email=desired.email if desired.email is not None else keep.email,
            phone=desired.phone if desired.phone is not None else keep.phone,
            name=desired.name if desired.name is not None else keep.name,
            title=desired.title if desired.title is not None else keep.title,
            tags=(keep.tags - stale) | desired.tags,
        )
        changed = tuple(
            field for field in ("email", "phone", "name", "title", "tags")
            if getattr(updated, field) != getattr(keep, field)
        )
        if changed:
            changes.append(
                CorporateCopy(CopyAction.UPDATE, updated, group.key, changed,
                              "the shared person's details or accounts changed")
            )
    changes.sort(key=lambda c: (c.contact.id, c.action.value))
    return changes


def plan_shared_contact_sync(
    accounts: Iterable[Account] | Mapping[str, Account],
    contacts: Iterable[Contact],
    *,
    tags: Iterable[str] | str = (),
    corporate_account_id: str | None = None,
    copy_to_corporate: bool = False,
    match_on: MatchOn | str = MatchOn.EMAIL_OR_PHONE,
    existing_copies: Iterable[Contact] = (),
    default_region: str | None = None,
    cascade: Iterable[RankingCriterion] = DEFAULT_CASCADE,
    engaging_both: bool = False,
    progress: Progress | None = None,
) -> SharedContactPlan:
    """Plan the tags and corporate copies that make the data say who is shared.

    Scope: the descendants of `corporate_account_id` (every contact of a known account
    when it is `None`). In scope, each record of a shared person should carry the user
    `tags` plus `primary-shared-contact` (its primary record) or
    `secondary-shared-contact`; every other record should carry none of them (so a
    person who stops being shared, or changes primary, is corrected). Other tags are
    never touched.

    With `copy_to_corporate`, each shared person also gets one copy in the corporate
    account, id `copy_contact_id(corporate, key)`, tagged with the user tags,
    `engaging-in-<Account Name>` for every other child account it is in and
    `engaging-in-<Account Name>-primary` for its primary one (not both for the primary;
    with `engaging_both` the primary also gets the plain tag, so that one filter on
    `engaging-in-<Account Name>` finds everyone engaging with that account). Existing
    copies are the
    contacts of the corporate account whose id starts with
    `shared-contact:<corporate>:` plus `existing_copies`; a copy whose key is still one
    of a shared person's emails/phones is kept and updated, others are removed.
    Without `copy_to_corporate`, existing copies are left alone.

    Raises `ConfigurationError` for a user tag that is a system tag, copies without a
    corporate account, or a corporate account that is not among `accounts`.
    """
    user_tags = _user_tags(tags)
    if copy_to_corporate and corporate_account_id is None:
        raise ConfigurationError("copy_to_corporate needs corporate_account_id")
    contact_list = list(contacts)
    is_copy = _is_copy_of(corporate_account_id) if corporate_account_id is not None else None
    scan = _scan(
        contact_list,
        match_on,
        accounts=accounts,
        within=corporate_account_id,
        default_region=default_region,
        cascade=cascade,
        exclude=is_copy,
        within_name="corporate_account_id",
        progress=progress,
    )
    groups = tuple(scan.groups)
    role: dict[str, tuple[str, SharedContactGroup]] = {}
    for group in groups:
        role[group.primary.id] = (PRIMARY_TAG, group)
        for record in group.secondaries:
            role[record.id] = (SECONDARY_TAG, group)
    managed = frozenset(user_tags) | _SYSTEM_TAGS
    tag_changes: list[TagChange] = []
    for contact in scan.in_scope:
        assigned = role.get(contact.id)
        desired = frozenset((*user_tags, assigned[0])) if assigned else frozenset()
        add = desired - contact.tags
        remove = (contact.tags & managed) - desired
        if not add and not remove:
            continue
        if assigned is None:
            reason = "not a shared contact"
        else:
            group = assigned[1]
            which = "primary" if assigned[0] == PRIMARY_TAG else "secondary"
            reason = f"{which} record of shared contact {group.key}"
        tag_changes.append(TagChange(contact.id, contact.account_id, add, remove, reason))
    tag_changes.sort(key=lambda t: (t.contact_id, t.account_id))

    copies: list[CorporateCopy] = []
    if copy_to_corporate and corporate_account_id is not None:
        existing: dict[str, Contact] = {}
        for item in (*contact_list, *existing_copies):
            if isinstance(item, Contact) and is_copy is not None and is_copy(item):
                existing.setdefault(item.id, item)
        copies = _plan_copies(
            groups,
            existing=existing.values(),
            corporate_account_id=corporate_account_id,
            user_tags=user_tags,
            accounts=scan.accounts,
            e164_of=scan.phones,
            engaging_both=engaging_both,
        )
    return SharedContactPlan(
        groups=groups,
        tag_changes=tuple(tag_changes),
        copies=tuple(copies),
        report=scan.groups.report,
        tags=user_tags,
        corporate_account_id=corporate_account_id,
        copy_to_corporate=copy_to_corporate,
        match_on=_to_match_on(match_on),
        engaging_both=engaging_both,
    )


def apply_shared_contact_plan(
    contacts: Iterable[Contact], plan: SharedContactPlan
) -> list[Contact]:
    """The contacts with the plan applied (a new list; nothing is modified).

    Tag changes apply to the record with that id and account; removed copies are
    dropped; updated copies replace the record with their id (or are appended when
    the copy was only passed as `existing_copies`); created copies are appended,
    sorted by id. Items that are not `Contact`s pass through unchanged.
    """
    by_key = {(t.contact_id, t.account_id): t for t in plan.tag_changes}
    removed = {
        (c.contact.id, c.contact.account_id)
        for c in plan.copies
        if c.action is CopyAction.REMOVE
    }
    written = {
        (c.contact.id, c.contact.account_id): c.contact
        for c in plan.copies
        if c.action is not CopyAction.REMOVE
    }
    items: Iterable[object] = contacts
    out: list[Any] = []
    for item in items:
        if not isinstance(item, Contact):
            out.append(item)
            continue
        key = (item.id, item.account_id)
        if key in removed:
            continue
        if key in written:
            out.append(written.pop(key))
            continue
        change = by_key.get(key)
        if change is None:
            out.append(item)
        else:
            out.append(attrs.evolve(item, tags=(item.tags - change.remove) | change.add))
    out.extend(written[key] for key in sorted(written))
    return out
