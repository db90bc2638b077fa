"""`open_store(url)`: one entry point for every back end."""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Any

from stakeholder._errors import ConfigurationError

if TYPE_CHECKING:
    from stakeholder.storage._protocols import Store

__all__ = ["open_store"]


def _postgres(url: str, options: dict[str, Any]) -> Store:
    from stakeholder.storage._postgres import PostgresStore  # noqa: PLC0415 - optional extra

    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    kept = []
    for name, value in query:
        if name == "schema":
            options.setdefault("schema", value)
        else:
            kept.append((name, value))
    scheme = "postgresql" if parts.scheme in ("postgres", "postgresql+psycopg") else parts.scheme
    conninfo = urllib.parse.urlunsplit(
        (scheme, parts.netloc, parts.path, urllib.parse.urlencode(kept), parts.fragment)
    )
    return PostgresStore(conninfo, **options)


def open_store(url: str, **options: Any) -> Store:
    """Open (and create or migrate) the store that `url` names.

    - `memory://`: a `MemoryStore` in this process;
    - `sqlite:///relative/path.db`, `sqlite:////absolute/path.db`: a SQLite file;
      `sqlite://` or `sqlite:///:memory:`: a private in-memory SQLite database;
    - `postgresql://user@host:port/dbname?schema=name` (also `postgres://`): PostgreSQL,
      needs the `postgres` extra; `?schema=` keeps the tables in that PostgreSQL schema.

    `options` go to the back end's constructor (`timeout=`; for PostgreSQL also
    `schema=`, `min_size=`, `max_size=`, `connect_timeout=`, `statement_timeout=`,
    `retries=`: see docs/storage.md).
    Raises `ConfigurationError` for a URL it does not know, `MissingDependency` when
    the back end's extra is not installed and `StorageError` when the database cannot
    be opened.
    """
    if not isinstance(url, str):
        raise ConfigurationError(f"a store URL must be a string, not {type(url).__name__}")
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ConfigurationError(
            f"{url!r} is not a store URL: expected memory://, sqlite:///path.db "
            "or postgresql://..."
        )
    if scheme == "memory":
        if rest:
            raise ConfigurationError(f"{url!r}: memory:// takes no path")
        from stakeholder.storage._memory import MemoryStore  # noqa: PLC0415 - keep imports lazy

        return MemoryStore(**options)
    if scheme == "sqlite":
        from stakeholder.storage._sqlite import SQLiteStore  # noqa: PLC0415

        if rest in ("", "/", "/:memory:"):
            return SQLiteStore(":memory:", **options)
        if not rest.startswith("/"):
            raise ConfigurationError(
                f"{url!r}: a SQLite URL is sqlite:///relative/path.db or "
                "sqlite:////absolute/path.db"
            )
        return SQLiteStore(urllib.parse.unquote(rest[1:]), **options)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return _postgres(url, dict(options))
    raise ConfigurationError(
        f"{url!r}: unknown store scheme {scheme!r} (memory, sqlite, postgresql)"
    )
