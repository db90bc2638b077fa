"""Tag names and ids the shared-contact plan writes."""

from __future__ import annotations

from typing import Final

PRIMARY_TAG: Final = "primary-shared-contact"
"""System tag on the record of a shared person in their primary account."""
SECONDARY_TAG: Final = "secondary-shared-contact"
"""System tag on every other record of a shared person."""
ENGAGING_TAG_PREFIX: Final = "engaging-in-"
"""Prefix of the tags of a corporate copy: `engaging-in-<Account Name>[-primary]`."""
COPY_ID_PREFIX: Final = "shared-contact:"
"""Corporate copies have the id `shared-contact:<corporate account id>:<person key>`."""

_SYSTEM_TAGS: Final = frozenset({PRIMARY_TAG, SECONDARY_TAG})
