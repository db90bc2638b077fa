"""Spark (PySpark) versions of routing, domain ownership and shared contacts.

Needs the `spark` extra (`pip install 'stakeholder[spark]'`: pyspark and pyarrow);
`import stakeholder` never imports pyspark, only `import stakeholder.spark` does. See
docs/spark.md.

- `route_dataframe`: one decision per communication, by the pure-Python router run in
  each partition (`mapInArrow`) with a broadcast `RoutingIndex`.
- `resolve_domain_ownership_dataframe`: claims, domain statuses, owners, sync issues and
  sync modes by Spark aggregations.
- `find_shared_contacts_dataframe`: connected components over email and phone keys by
  label propagation, the primary record ranked with window functions.
- Arrow schemas, converters and readers/writers: values, Parquet and stores to
  DataFrames and back.
"""

from __future__ import annotations

from stakeholder._errors import MissingDependency

try:
    import pyarrow  # noqa: F401 - checked here so the error names the extra
    import pyspark  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
    raise MissingDependency("stakeholder.spark", "spark", exc.name or "pyspark") from exc

from stakeholder.spark._arrow import (
    ACCOUNT_SCHEMA,
    COMMUNICATION_SCHEMA,
    CONTACT_SCHEMA,
    DECISION_SCHEMA,
    EVIDENCE_TYPE,
    OVERRIDE_SCHEMA,
    accounts_table,
    communications_table,
    contacts_table,
    decision_from_row,
    decision_row,
    decisions_table,
    overrides_table,
)
from stakeholder.spark._frames import (
    StoreFrames,
    accounts_dataframe,
    communications_dataframe,
    contacts_dataframe,
    dataframe_from_arrow,
    decisions_dataframe,
    overrides_dataframe,
    read_accounts,
    read_contacts,
    read_decisions,
    read_overrides,
    read_store,
    spark_schema,
    write_decisions_parquet,
    write_decisions_to_store,
)
from stakeholder.spark._ownership import OwnershipFrames, resolve_domain_ownership_dataframe
from stakeholder.spark._routing import build_routing_index, route_dataframe, route_partition
from stakeholder.spark._session import local_session
from stakeholder.spark._shared import (
    SHARED_GROUP_COLUMNS,
    find_shared_contacts_dataframe,
)

__all__ = [
    "ACCOUNT_SCHEMA",
    "COMMUNICATION_SCHEMA",
    "CONTACT_SCHEMA",
    "DECISION_SCHEMA",
    "EVIDENCE_TYPE",
    "OVERRIDE_SCHEMA",
    "SHARED_GROUP_COLUMNS",
    "OwnershipFrames",
    "StoreFrames",
    "accounts_dataframe",
    "accounts_table",
    "build_routing_index",
    "communications_dataframe",
    "communications_table",
    "contacts_dataframe",
    "contacts_table",
    "dataframe_from_arrow",
    "decision_from_row",
    "decision_row",
    "decisions_dataframe",
    "decisions_table",
    "find_shared_contacts_dataframe",
    "local_session",
    "overrides_dataframe",
    "overrides_table",
    "read_accounts",
    "read_contacts",
    "read_decisions",
    "read_overrides",
    "read_store",
    "resolve_domain_ownership_dataframe",
    "route_dataframe",
    "route_partition",
    "spark_schema",
    "write_decisions_parquet",
    "write_decisions_to_store",
]
