"""Sponsor tracking: one observation round against DuckDB computing the same changed set.

Workload (scale 1): 1,000,000 Tracked people over 50,000 accounts, each with an
accepted baseline profile and a newly fetched one: 2% change title, 0.5% move to a
company outside the book (departure), 0.5% into another known account (opportunity),
1% change location, 5% differ only in case and spacing (never a change).

- ours: `observe_round(records, fetched, directory=..., at=...)`: the diff of every
  record against its baseline (normalised title, company, location), the departure /
  opportunity classification, and the CTA planning through the alerts CTA model
  (`plan_ctas`). Building the values is input preparation, not timed.
- DuckDB: the baselines and the fetched profiles as two tables (loading is timed apart);
  one query joins them on the profile url and returns the (person, field) pairs whose
  normalised values differ (lower-case, runs of whitespace as one, trimmed; NULL as '').

Both changed sets must agree exactly. Budget: ours < 2x DuckDB.
Run: python -m benchmarks sponsors [--scale 0.1] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import sys

import duckdb
import pyarrow as pa

from benchmarks._harness import machine, timed
from stakeholder import Account
from stakeholder.sponsors import (
    AccountDirectory,
    Profile,
    TrackingRecord,
    TrackingStatus,
    observe_round,
)

PEOPLE = 1_000_000
ACCOUNTS = 50_000
T0 = dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)
AT = T0 + dt.timedelta(days=7)
_TITLES = ("VP Sales", "Head of Operations", "Director of IT", "Chief Revenue Officer",
           "Procurement Manager", "CFO", "Head of Customer Success", "CTO")
_CITIES = ("London, UK", "Berlin, Germany", "Austin, TX", "Toronto, Canada", "Paris, France")
_ELSEWHERE = ("Bluth Company", "Dunder Mifflin", "Prestige Worldwide", "Sterling Cooper")


def _noise(text: str) -> str:
    return "  " + text.upper().replace(" ", "   ")


def build(scale: float, seed: int) -> tuple[list[TrackingRecord], dict[str, Profile],
                                            list[Account]]:
    rnd = random.Random(seed)
    people = max(10, int(PEOPLE * scale))
    n_accounts = max(5, int(ACCOUNTS * scale))
    accounts = [Account(f"a{i}", f"Company {i}", domains={f"company{i}.com"})
                for i in range(n_accounts)]
    records: list[TrackingRecord] = []
    fetched: dict[str, Profile] = {}
    for i in range(people):
        acct = accounts[i % n_accounts]
        url = f"https://profiles.example/in/{i}"
        title, city = rnd.choice(_TITLES), rnd.choice(_CITIES)
        base = Profile("bench", url, f"Person {i}", T0, title=title, company=acct.name,
                       company_domain=f"company{i % n_accounts}.com", location=city)
        new = base
        roll = rnd.random()
        if roll < 0.02:
            new = Profile("bench", url, base.name, AT, title=rnd.choice(_TITLES),
                          company=base.company, company_domain=base.company_domain,
                          location=city)
        elif roll < 0.025:
            new = Profile("bench", url, base.name, AT, title=title,
                          company=rnd.choice(_ELSEWHERE), location=city)
        elif roll < 0.03:
            j = rnd.randrange(n_accounts)
            new = Profile("bench", url, base.name, AT, title=title, company=f"Company {j}",
                          company_domain=f"company{j}.com", location=city)
        elif roll < 0.04:
            new = Profile("bench", url, base.name, AT, title=title, company=base.company,
                          company_domain=base.company_domain, location=rnd.choice(_CITIES))
        elif roll < 0.09:
            new = Profile("bench", url, base.name, AT, title=_noise(title),
                          company=_noise(acct.name), company_domain=base.company_domain,
                          location=city.lower())
        records.append(TrackingRecord(f"p{i}", acct.id, TrackingStatus.TRACKED, T0,
                                      profile_url=url, baseline=base))
        fetched[url] = new
    return records, fetched, accounts


def _tables(records: list[TrackingRecord], fetched: dict[str, Profile]) -> tuple[pa.Table,
                                                                                pa.Table]:
    bases = [r.baseline for r in records]
    base = pa.table({
        "person_id": [r.person_id for r in records],
        "url": [r.profile_url for r in records],
        "title": [b.title if b else None for b in bases],
        "company": [b.company if b else None for b in bases],
        "location": [b.location if b else None for b in bases],
    })
    seen = list(fetched.values())
    observed = pa.table({
        "url": [p.url for p in seen], "title": [p.title for p in seen],
        "company": [p.company for p in seen], "location": [p.location for p in seen],
    })
    return base, observed


def _norm(column: str) -> str:
    return f"lower(trim(regexp_replace(coalesce({column}, ''), '\\s+', ' ', 'g')))"


def duckdb_changes(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    parts = [
        f"SELECT b.person_id, '{field}' AS field FROM base b JOIN observed o ON b.url = o.url"
        f" WHERE {_norm('b.' + field)} <> {_norm('o.' + field)}"
        for field in ("title", "company", "location")
    ]
    rows = con.execute(" UNION ALL ".join(parts)).fetchall()
    return {(str(p), str(f)) for p, f in rows}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(machine(f"duckdb {duckdb.__version__}"))
    build_t = timed(lambda: build(args.scale, args.seed))
    records, fetched, accounts = build_t.result
    print(f"built {len(records):,} tracked people, {len(accounts):,} accounts "
          f"in {build_t.wall:.1f} s (not timed)")
    directory = AccountDirectory(accounts)
    gc.collect()
    gc.freeze()
    ours = timed(lambda: observe_round(records, fetched, directory=directory, at=AT))
    round_ = ours.result
    print(f"ours: observe_round: {ours.wall:.2f} s wall, {ours.cpu:.2f} s CPU; "
          f"{len(round_.updates):,} updates, {len(round_.ctas.opened):,} CTAs planned")
    con = duckdb.connect()
    base, observed = _tables(records, fetched)
    load = timed(lambda: (con.register("base_arrow", base), con.register("obs_arrow", observed),
                          con.execute("CREATE TABLE base AS SELECT * FROM base_arrow"),
                          con.execute("CREATE TABLE observed AS SELECT * FROM obs_arrow")))
    print(f"DuckDB load (not timed): {load.wall:.2f} s")
    theirs = timed(lambda: duckdb_changes(con))
    print(f"DuckDB join: {theirs.wall:.2f} s wall, {theirs.cpu:.2f} s CPU; "
          f"{len(theirs.result):,} changed (person, field) pairs")
    mine = {(u.person_id, u.field.value) for u in round_.updates}
    if mine != theirs.result:
        print(f"MISMATCH: ours {len(mine)}, DuckDB {len(theirs.result)}, "
              f"only ours {len(mine - theirs.result)}, only DuckDB {len(theirs.result - mine)}")
        return 1
    print("changed sets agree exactly")
    print(f"ratio ours / DuckDB: wall {ours.wall / theirs.wall:.2f}, "
          f"CPU {ours.cpu / theirs.cpu:.2f} (budget < 2.00)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
