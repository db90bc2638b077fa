"""A local SparkSession set up for this library's tests, docs and benchmarks."""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

__all__ = ["local_session"]


def local_session(
    cores: int = 2,
    *,
    shuffle_partitions: int | None = None,
    app_name: str = "stakeholder",
    config: dict[str, str] | None = None,
) -> SparkSession:
    """A local-mode `SparkSession` (`local[cores]`) for notebooks, tests and benchmarks.

    Bound to loopback (`spark.driver.bindAddress` and `spark.driver.host` 127.0.0.1),
    without the web UI, in UTC, with `shuffle_partitions` (default: `cores`) shuffle
    partitions, and with Python workers running this interpreter (`PYSPARK_PYTHON`,
    set only when unset). Returns the active session when one exists (Spark keeps one
    per process). On a cluster use the session the platform gives you instead.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions or cores))
        .config("spark.default.parallelism", str(cores))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
