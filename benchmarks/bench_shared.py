"""Shared contacts: `find_shared_contacts` against the same grouping done in DuckDB.

Workload (scale 1): 1,000,000 contact rows over 50,000 accounts; about 3% of people
are in two or more accounts (2, 3 or 4), matched on email or phone (`EMAIL_OR_PHONE`).
Emails vary in case and sub-address between a person's records; phones are British,
American and German numbers written in E.164, spaced international or national form
(national numbers read with region GB), with about 1% invalid ones. Some records of a
shared person carry only the phone, so groups form through email-phone chains.

- ours: `find_shared_contacts(contacts, MatchOn.EMAIL_OR_PHONE, default_region="GB")`
  on `Contact` values (building them is input preparation, not timed), the phone cache
  of `normalize_phone` cleared first. Also run with the E.164 fast path switched off,
  to show what it saves.
- DuckDB: the contact rows as a table (loading is timed apart); the distinct raw phones
  are fetched, normalised with the same phonenumbers validation as `normalize_phone`
  (its uncached function), loaded back as a table, and the connected components are
  found in SQL by label propagation (each record takes the smallest label of any record
  sharing an email or phone, until nothing changes); components spanning two or more
  accounts are fetched.

Both groupings must agree exactly (same sets of record ids). Budget: ours <= DuckDB.
Run: python -m benchmarks shared [--scale 0.05] [--seed 7] [--no-ablation]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks._harness import machine, timed
from stakeholder import Contact, MatchOn, _identity, find_shared_contacts
from stakeholder._shared import _phones

ROWS = 1_000_000
ACCOUNTS = 50_000
SHARED_SHARE = 0.03
REGION = "GB"

_FIRST = ("anna", "ben", "chloe", "dev", "emma", "finn", "grace", "hugo", "isla", "jack")
_LAST = ("smith", "jones", "patel", "khan", "brown", "wilson", "taylor", "davies", "evans")


def _digits(rnd: random.Random, n: int) -> str:
    return "".join(rnd.choice("0123456789") for _ in range(n))


def _number(rnd: random.Random) -> tuple[str, str, str | None]:
    """(E.164, spaced international form, national form or None)."""
    roll = rnd.random()
    if roll < 0.5:  # GB mobile
        rest = rnd.choice("45789") + _digits(rnd, 8)
        return f"+447{rest}", f"+44 7{rest[:3]} {rest[3:]}", f"07{rest[:3]} {rest[3:]}"
    if roll < 0.8:  # London
        rest = rnd.choice("378") + _digits(rnd, 7)
        return f"+4420{rest}", f"+44 20 {rest[:4]} {rest[4:]}", f"020 {rest[:4]} {rest[4:]}"
    if roll < 0.9:  # US
        area = rnd.choice(("212", "415", "646", "312", "617"))
        rest = rnd.choice("23456789") + _digits(rnd, 6)
        return f"+1{area}{rest}", f"+1 {area}-{rest[:3]}-{rest[3:]}", None
    rest = _digits(rnd, 8)  # Berlin
    return f"+4930{rest}", f"+49 30 {rest}", None


def _written(rnd: random.Random, number: tuple[str, str, str | None]) -> str:
    e164, international, national = number
    roll = rnd.random()
    if roll < 0.01:
        return rnd.choice(("12345", "+44 20 1234", "call reception", "+999 1234567"))
    if roll < 0.41:
        return e164
    if roll < 0.71 or national is None:
        return international
    return national


def _email_variant(rnd: random.Random, email: str) -> str:
    roll = rnd.random()
    if roll < 0.5:
        return email
    local, domain = email.split("@")
    if roll < 0.75:
        return f"{local.capitalize()}@{domain.upper()}"
    return f"{local}+crm{rnd.randint(1, 9)}@{domain}"


def generate(rows: int, accounts: int, seed: int) -> list[tuple[str, str, str | None, str | None]]:
    """(id, account id, raw email, raw phone) rows; deterministic for a seed."""
    rnd = random.Random(seed)
    out: list[tuple[str, str, str | None, str | None]] = []
    person = 0
    while len(out) < rows:
        person += 1
        has_email = rnd.random() < 0.85
        has_phone = not has_email or rnd.random() < 0.7
        email = (
            f"{rnd.choice(_FIRST)}.{rnd.choice(_LAST)}{person}@co{rnd.randrange(accounts)}.com"
            if has_email
            else None
        )
        number = _number(rnd) if has_phone else None
        copies = 1
        if rnd.random() < SHARED_SHARE:
            copies = rnd.choices((2, 3, 4), weights=(70, 20, 10))[0]
        for k, account in enumerate(rnd.sample(range(accounts), copies)):
            row_email = email
            if email is not None and k > 0:
                # a later record may have lost its email (then only the phone links it)
                row_email = None if number and rnd.random() < 0.2 else _email_variant(rnd, email)
            row_phone = _written(rnd, number) if number is not None else None
            out.append((f"c{len(out)}", f"a{account}", row_email, row_phone))
    return out[:rows]


def ours(contacts: list[Contact]) -> set[frozenset[str]]:
    _identity._phone_or_error.cache_clear()
    groups = find_shared_contacts(contacts, MatchOn.EMAIL_OR_PHONE, default_region=REGION)
    return {frozenset(c.id for c in g.records) for g in groups}


_LABEL_SQL = """
CREATE OR REPLACE TABLE keylab AS
    SELECT e.key, min(lab.label) AS label FROM e JOIN lab USING (rid) GROUP BY e.key;
CREATE OR REPLACE TABLE newlab AS
    SELECT e.rid, min(keylab.label) AS label FROM e JOIN keylab USING (key) GROUP BY e.rid;
"""


def duckdb_grouping(con: duckdb.DuckDBPyConnection, workdir: Path) -> tuple[set[frozenset[str]], int]:
    raw_phone = _identity._phone_or_error.__wrapped__  # the same validation, uncached
    distinct = con.sql("SELECT DISTINCT phone FROM c WHERE phone IS NOT NULL").fetchall()
    mapping = workdir / "phones.csv"
    with mapping.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(("raw", "e164"))
        for (raw,) in distinct:
            result = raw_phone(raw, REGION)
            if isinstance(result, str):
                writer.writerow((raw, result))
    con.execute(
        f"CREATE OR REPLACE TABLE ph AS SELECT * FROM read_csv('{mapping}', header=true, "
        "columns={'raw': 'VARCHAR', 'e164': 'VARCHAR'}, quote='\"')"
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE k AS
            SELECT rid, email AS key FROM c WHERE email IS NOT NULL
            UNION ALL
            SELECT c.rid, ph.e164 AS key FROM c JOIN ph ON c.phone = ph.raw;
        CREATE OR REPLACE TABLE e AS
            SELECT rid, key FROM k
            WHERE key IN (SELECT key FROM k GROUP BY key HAVING count(*) > 1);
        CREATE OR REPLACE TABLE lab AS SELECT DISTINCT rid, rid AS label FROM e;
        """
    )
    rounds = 0
    while True:
        rounds += 1
        con.execute(_LABEL_SQL)
        ((changed,),) = con.sql(
            "SELECT count(*) FROM newlab JOIN lab USING (rid) WHERE newlab.label <> lab.label"
        ).fetchall()
        con.execute("CREATE OR REPLACE TABLE lab AS SELECT * FROM newlab")
        if changed == 0:
            break
    rows = con.sql(
        """
        SELECT list(c.id) FROM lab JOIN c USING (rid)
        GROUP BY lab.label HAVING count(DISTINCT c.account_id) >= 2
        """
    ).fetchall()
    return {frozenset(ids) for (ids,) in rows}, rounds


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks shared")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,000,000 rows")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-ablation", action="store_true", help="skip the no-fast-path run")
    args = parser.parse_args(argv)
    rows = max(10, int(ROWS * args.scale))
    accounts = max(4, int(ACCOUNTS * args.scale))

    print(machine(f"duckdb {duckdb.__version__}"))
    started = time.perf_counter()
    data = generate(rows, accounts, args.seed)
    contacts = [Contact(i, a, email=e, phone=p) for i, a, e, p in data]
    print(f"workload: {rows:,} rows, {accounts:,} accounts, "
          f"{len({p for *_, p in data if p}):,} distinct raw phones "
          f"(prepared in {time.perf_counter() - started:.1f} s)")

    t_ours, c_ours, ours_groups = timed(lambda: ours(contacts))
    assert isinstance(ours_groups, set)
    print(f"ours (find_shared_contacts):      {t_ours:8.2f} s wall {c_ours:8.2f} s CPU   "
          f"{len(ours_groups):,} groups")

    t_plain = None
    if not args.no_ablation:
        fast = _phones._e164_fast
        _phones._e164_fast = lambda raw, region=None: None  # type: ignore[assignment]
        try:
            t_plain, c_plain, plain_groups = timed(lambda: ours(contacts))
        finally:
            _phones._e164_fast = fast
        assert plain_groups == ours_groups
        print(f"ours, plain normalize_phone:      {t_plain:8.2f} s wall {c_plain:8.2f} s CPU")

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        table = workdir / "contacts.csv"
        with table.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(("rid", "id", "account_id", "email", "phone"))
            for rid, c in enumerate(contacts):
                email = c.email_address
                writer.writerow((rid, c.id, c.account_id, "" if email is None else str(email),
                                 c.phone or ""))
        con = duckdb.connect()
        t_load, _cpu, _ = timed(
            lambda: con.execute(
                f"CREATE TABLE c AS SELECT * FROM read_csv('{table}', header=true, "
                "columns={'rid': 'BIGINT', 'id': 'VARCHAR', 'account_id': 'VARCHAR', "
                "'email': 'VARCHAR', 'phone': 'VARCHAR'}, quote='\"')"
            )
        )
        t_duck, c_duck, result = timed(lambda: duckdb_grouping(con, workdir))
        con.close()
    duck_groups, rounds = result  # type: ignore[misc]
    threads = os.cpu_count()
    print(f"duckdb (phonenumbers + SQL):      {t_duck:8.2f} s wall {c_duck:8.2f} s CPU   "
          f"{len(duck_groups):,} groups, {rounds} label rounds")
    print(f"  (DuckDB table load {t_load:.2f} s, not counted; DuckDB may use {threads} threads)")

    agree = ours_groups == duck_groups
    print(f"groupings agree: {agree}")
    print(f"ratio ours / duckdb: wall {t_ours / t_duck:.2f}, CPU {c_ours / c_duck:.2f}  "
          "(budget <= 1.00)")
    if t_plain is not None:
        print(f"fast path saves: {1 - c_ours / c_plain:.0%} of our CPU time")
    if not agree:
        only_ours, only_duck = ours_groups - duck_groups, duck_groups - ours_groups
        print(f"  only ours: {len(only_ours)}, only duckdb: {len(only_duck)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
