"""stakeholder: which customer account an email domain, contact, email or meeting
belongs to, and why.

The public names are re-exported here; implementation lives in private modules.
Each layer's names sit in their own block below.
"""

from __future__ import annotations

# errors
from stakeholder._errors import (
    ConfigurationError,
    InputFileError,
    InvalidDomain,
    InvalidEmail,
    InvalidPhone,
    InvalidRecord,
    MissingDependency,
    StakeholderError,
    StorageError,
)

# identity
from stakeholder._identity import (
    EmailAddress,
    IdentityPolicy,
    PersonalDomains,
    normalize_host,
    normalize_phone,
    registrable_domain,
)

# values
from stakeholder._model import (
    Account,
    AccountKind,
    AccountStatus,
    CommKind,
    Communication,
    Contact,
    Participant,
    Rejection,
    Role,
)

# ownership
from stakeholder._ownership import (
    ClaimKind,
    DomainClaim,
    DomainStatus,
    OwnershipPolicy,
    SyncIssue,
    SyncMode,
)

# routing
from stakeholder._routing import (
    AmbiguityResolution,
    Evidence,
    EvidenceKind,
    Override,
    RouteStatus,
    RoutingDecision,
    RoutingPolicy,
    Strength,
)

__version__ = "0.1.0"

__all__ = [
    "Account",
    "AccountKind",
    "AccountStatus",
    "AmbiguityResolution",
    "ClaimKind",
    "CommKind",
    "Communication",
    "ConfigurationError",
    "Contact",
    "DomainClaim",
    "DomainStatus",
    "EmailAddress",
    "Evidence",
    "EvidenceKind",
    "IdentityPolicy",
    "InputFileError",
    "InvalidDomain",
    "InvalidEmail",
    "InvalidPhone",
    "InvalidRecord",
    "MissingDependency",
    "Override",
    "OwnershipPolicy",
    "Participant",
    "Rejection",
    "Role",
    "RouteStatus",
    "RoutingDecision",
    "RoutingPolicy",
    "StakeholderError",
    "StorageError",
    "Strength",
    "SyncIssue",
    "SyncMode",
    "__version__",
    "normalize_host",
    "normalize_phone",
    "registrable_domain",
]
