"""Sticky overrides (by address and by host) are stored by every back end (issue 10)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import pytest

from stakeholder import Account, Override, route
from stakeholder.storage import MemoryStore, Store
from storage_backends import postgres_stores, postgres_url, sqlite_stores
from test_routing_real_data_rules import T0, index_of, mail

# --------------------------------------------------------------------------- storage


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    if request.param == "sqlite":
        with contextlib.ExitStack() as stack:
            make = stack.enter_context(sqlite_stores(tmp_path))  # type: ignore[arg-type]
            yield make()
        return
    url = postgres_url()
    with postgres_stores(url) as make:
        yield make()


def test_sticky_overrides_are_stored_by_every_back_end(store: Store) -> None:
    early = Override("beta", "csm@us", "Jane moved", T0, address="jane@acme.com")
    late = Override("gamma", "csm@us", "Jane moved again", T0 + dt.timedelta(days=1),
                    address="jane@acme.com")
    by_host = Override("beta", "ops", "EU office", T0, host="eu.acme.com")
    by_comm = Override("acme", "ops", "this one", T0, comm_id="m1")
    store.overrides.add_many("t1", [early, late, by_host, by_comm])
    active = store.overrides.active("t1")
    assert active == [by_comm, late, by_host]
    history = store.overrides.history("t1")
    assert [r.override for r in history if not r.active] == [early]
    index = index_of([Account("acme", "Acme", domains=["acme.com"]), Account("beta", "Beta"),
                      Account("gamma", "Gamma")], overrides=active)
    d = route(mail("m2", "jane@acme.com", at=48), index)
    assert d.account_ids == ("gamma",)
    assert d.rule == "sticky_override"


