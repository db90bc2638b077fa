"""Spark: `route_dataframe` and `find_shared_contacts_dataframe` in local mode, at 1 and 2
cores (or `--cores`), against the pure-Python single process in the same run.

Workloads (scale 1, seeded), the same generators as `benchmarks routing` and
`benchmarks shared`:
- routing: 1,000,000 communications over 100,000 accounts and 1,000,000 contacts
  (participants, threads, overrides and shared contacts as in `bench_routing`);
- shared contacts: 1,000,000 contact rows, 3% of people in 2-4 accounts, linked by
  email variants and phones written several ways (as in `bench_shared`).

Measured:
- pure Python, one process: `route_many` over the communications sorted by (time, id)
  with the same `RoutingIndex`; `find_shared_contacts(rows, default_region="GB")`.
- Spark `local[N]`: the communications and contacts are read from Parquet files written
  beforehand (writing them is not counted); `route_dataframe` with the same index
  (broadcast), its decisions written to Parquet; `find_shared_contacts_dataframe` with
  its groups written to Parquet. Session start-up is reported apart, not counted.

Both sides must agree: every decision (status, accounts, candidates, rule) and every
group (its record ids). Throughput ratios Spark / Python are printed per core count.
Run: python -m benchmarks spark [--scale 0.02] [--cores 1,2] [--seed 7] [--skip-shared]
"""

from __future__ import annotations

import argparse
import gc
import pickle
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from benchmarks._harness import machine, timed
from benchmarks.bench_routing import Workload
from benchmarks.bench_shared import REGION, generate
from stakeholder import (
    Contact,
    RoutingIndex,
    find_shared_contacts,
    resolve_domain_ownership,
    route_many,
)


def _python_routing(work: Workload, index: RoutingIndex) -> dict[str, tuple[Any, ...]]:
    ordered = sorted(work.comms, key=lambda c: (c.occurred_at, c.id))
    return {
        d.comm_id: (d.status.value, d.account_ids, d.candidates, d.rule)
        for d in route_many(ordered, index)
    }


def _spark_decisions(path: str) -> dict[str, tuple[Any, ...]]:
    table = pq.read_table(path, columns=["comm_id", "status", "account_ids", "candidates", "rule"])
    return {
        r["comm_id"]: (r["status"], tuple(r["account_ids"]), tuple(r["candidates"]), r["rule"])
        for r in table.to_pylist()
    }


def _spark_groups(path: str) -> set[frozenset[str]]:
    table = pq.read_table(path, columns=["record_ids"])
    return {frozenset(r["record_ids"]) for r in table.to_pylist()}


def _report_difference(got: dict[str, Any], want: dict[str, Any]) -> None:
    missing, extra = want.keys() - got.keys(), got.keys() - want.keys()
    differ = sorted(k for k in want.keys() & got.keys() if got[k] != want[k])
    print(f"  DIFFERENCE: {len(missing)} missing, {len(extra)} extra, {len(differ)} differ",
          file=sys.stderr)
    for k in differ[:3]:
        print(f"  {k}: spark {got[k]} python {want[k]}", file=sys.stderr)


def index_memory(work: Workload, ownership: Any) -> None:
    """What broadcasting the index costs: its pickled size (what travels to each
    executor) and the Python heap it holds once built (tracemalloc), per million
    contacts."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index = RoutingIndex.build(
        work.accounts, work.contacts, ownership, shared=work.primary, overrides=work.overrides
    )
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    pickled = len(pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL))
    per = 1_000_000 / len(work.contacts)
    print(f"broadcast index: {len(work.contacts):,} contacts, {len(work.accounts):,} accounts: "
          f"pickled {pickled / 1e6:.1f} MB, heap {held / 1e6:.1f} MB; per million contacts "
          f"(scaled linearly): pickled {pickled * per / 1e6:.0f} MB, heap {held * per / 1e6:.0f} MB")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks spark")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="1.0 = 1,000,000 communications and 1,000,000 contact rows")
    parser.add_argument("--cores", default="1,2", help="local[N] core counts, comma-separated")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-shared", action="store_true")
    parser.add_argument("--driver-memory", default="4g", help="spark.driver.memory (local mode)")
    args = parser.parse_args(argv)
    cores = [int(c) for c in args.cores.split(",")]

    import pyspark

    from stakeholder import spark as ss

    print(machine(f"pyspark {pyspark.__version__}"))
    started = time.perf_counter()
    work = Workload(args.scale, args.seed)
    rows = max(10, int(1_000_000 * args.scale))
    shared_rows = [
        Contact(i, a, email=e, phone=p)
        for i, a, e, p in generate(rows, max(4, int(50_000 * args.scale)), args.seed)
    ]
    print(f"workload: {len(work.comms):,} communications, {len(work.accounts):,} accounts, "
          f"{len(work.contacts):,} contacts; {len(shared_rows):,} contact rows for shared "
          f"contacts (prepared in {time.perf_counter() - started:.1f} s)")

    t_own, _, ownership = timed(
        lambda: resolve_domain_ownership(work.accounts, work.contacts, work.policy)
    )
    t_index, _, index = timed(lambda: RoutingIndex.build(
        work.accounts, work.contacts, ownership, shared=work.primary, overrides=work.overrides
    ))
    print(f"ownership {t_own:.2f} s, index build {t_index:.2f} s (driver, shared by both sides)")
    index_memory(work, ownership)
    t_py, c_py, want = timed(lambda: _python_routing(work, index))
    print(f"python route_many:          {t_py:8.2f} s wall {c_py:8.2f} s CPU   "
          f"{len(work.comms) / t_py:10,.0f} comms/s")
    t_py_sh = 0.0
    want_groups: set[frozenset[str]] = set()
    if not args.skip_shared:
        t_py_sh, c_py_sh, groups = timed(
            lambda: find_shared_contacts(shared_rows, default_region=REGION)
        )
        want_groups = {frozenset(c.id for c in g.records) for g in groups}
        print(f"python find_shared_contacts:{t_py_sh:8.2f} s wall {c_py_sh:8.2f} s CPU   "
              f"{len(want_groups):,} groups")

    # a fresh index for Spark: the one above has routed, so its per-address cache is warm
    fresh = RoutingIndex.build(
        work.accounts, work.contacts, ownership, shared=work.primary, overrides=work.overrides
    )
    ok = True
    route_times: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work_dir = Path(tmp)
        pq.write_table(ss.communications_table(work.comms), work_dir / "comms.parquet")
        pq.write_table(ss.contacts_table(shared_rows), work_dir / "shared.parquet")
        for n in cores:
            t_start, _, spark = timed(lambda n=n: ss.local_session(
                n, shuffle_partitions=max(2, 2 * n), app_name=f"bench-{n}",
                config={"spark.driver.memory": args.driver_memory},
            ))
            comms_df = spark.read.parquet(str(work_dir / "comms.parquet"))
            out = str(work_dir / f"decisions-{n}.parquet")
            t_sp, _, _ = timed(lambda comms_df=comms_df, out=out: ss.write_decisions_parquet(
                ss.route_dataframe(comms_df, None, None, index=fresh), out
            ))
            route_times[n] = t_sp
            got = _spark_decisions(out)
            same = got == want
            if not same:
                _report_difference(got, want)
            ok &= same
            print(f"spark local[{n}] route:      {t_sp:8.2f} s wall   "
                  f"{len(work.comms) / t_sp:10,.0f} comms/s   ratio vs python "
                  f"{t_py / t_sp:5.2f}x   agree: {same}   (session start {t_start:.1f} s)")
            if not args.skip_shared:
                contacts_df = spark.read.parquet(str(work_dir / "shared.parquet"))
                out_sh = str(work_dir / f"groups-{n}.parquet")
                t_sh, _, _ = timed(lambda contacts_df=contacts_df, out_sh=out_sh: (
                    ss.find_shared_contacts_dataframe(contacts_df, default_region=REGION)
                    .write.mode("overwrite").parquet(out_sh)
                ))
                same_sh = _spark_groups(out_sh) == want_groups
                ok &= same_sh
                print(f"spark local[{n}] shared:     {t_sh:8.2f} s wall   ratio vs python "
                      f"{t_py_sh / t_sh:5.2f}x   agree: {same_sh}")
            spark.stop()
    base = cores[0]
    for n in cores[1:]:
        print(f"route scaling local[{n}] / local[{base}]: "
              f"{route_times[base] / route_times[n]:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
