"""Options several CLI commands share: the ownership policy and `--now`."""

from __future__ import annotations

import argparse
import datetime as dt

from stakeholder._errors import ConfigurationError
from stakeholder._identity import phone_region
from stakeholder._ownership import OwnershipPolicy

__all__ = [
    "add_now_option",
    "add_ownership_options",
    "check_region",
    "ownership_policy",
    "parse_now",
]


def add_ownership_options(parser: argparse.ArgumentParser) -> None:
    """`--shared-domain`, `--allow-all-shared`, `--internal-domain`, `--secondary-min`."""
    parser.add_argument(
        "--shared-domain",
        action="append",
        default=[],
        metavar="D",
        help="a domain allowed on several accounts (repeatable)",
    )
    parser.add_argument(
        "--allow-all-shared",
        action="store_true",
        help="allow every domain on several accounts (no sync issues)",
    )
    parser.add_argument(
        "--internal-domain",
        action="append",
        default=[],
        metavar="D",
        help="one of our own domains: never claimed, its people internal (repeatable)",
    )
    parser.add_argument(
        "--secondary-min",
        type=int,
        default=3,
        metavar="N",
        help="contacts needed at a domain to claim it as secondary (default 3)",
    )


def ownership_policy(args: argparse.Namespace) -> OwnershipPolicy:
    """The `OwnershipPolicy` of the options `add_ownership_options` added.

    Raises `ValueError` for `--secondary-min` below 1 and `InvalidDomain` for a domain
    that is not a registrable domain.
    """
    if args.secondary_min < 1:
        raise ValueError(f"--secondary-min must be at least 1, not {args.secondary_min}")
    return OwnershipPolicy(
        secondary_min_contacts=args.secondary_min,
        shared_domains=frozenset(args.shared_domain),
        allow_all_shared=args.allow_all_shared,
        internal_domains=frozenset(args.internal_domain),
    )


def add_now_option(parser: argparse.ArgumentParser, help: str) -> None:
    """`--now ISO`, read with `parse_now` by the command."""
    parser.add_argument("--now", metavar="ISO", help=help)


def parse_now(text: str | None) -> dt.datetime:
    """`--now`: an ISO 8601 time (UTC when it has no offset), or the clock when absent."""
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--now {text!r} is not an ISO 8601 date-time") from None
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def check_region(flag: str, text: str | None) -> str | None:
    """A region option (`--region`, `--phone-region`): `None` when absent, else the
    upper-cased code. Raises `ValueError` naming the flag for an unknown region, which
    the command reports as a bad option (exit 2, one line)."""
    if text is None:
        return None
    try:
        return phone_region(text)
    except ConfigurationError:
        raise ValueError(
            f"{flag} {text!r} is not a known region: expected an ISO 3166 alpha-2 code "
            "such as US or GB"
        ) from None
