"""Ingest: reading mail and CRM exports, against the standard library doing the same.

Workloads (scale 1):
- mail: a generated mbox of 200,000 messages (headers like real list mail: From with
  display names, 1 to 9 To/Cc addresses, Date with a zone, Message-ID, half of them
  replies with In-Reply-To/References, 1 to 3 KB bodies), gzipped and not.
- contacts: a generated CSV of 1,000,000 contact rows (id, account_id, email, phone,
  name, created_at, conversions, tags).
- real: the real archive ../shared/data/mail/r-lists/r-sig-geo.mbox.gz (29,609
  messages), whatever the scale.

Compared in the same process, by process CPU time (the machine is shared):
- ours: `read_communications(path)` (splits the mbox, parses headers only, builds
  `Communication` values with participants, thread ids, de-duplication).
- ours, streaming: `iter_communications(path)` consumed without keeping anything.
- stdlib mailbox: `mailbox.mbox(path)` iterated (it parses every message in full),
  extracting the same fields with `email.utils.getaddresses` / `parsedate_to_datetime`
  into plain tuples, kept in a list. It needs a plain file, so it runs on the
  uncompressed mbox only.
- contacts, ours: `read_contacts(path)` (validated `Contact` values with rejections);
  baselines: `csv.DictReader` rows into plain dicts (no validation), and those rows
  turned straight into `Contact(...)` (the model's own cost, with no per-row checks).

Both mail readers must find the same number of messages. Budget (issue 11): ours within
1.2x of the stdlib mailbox route's time on the plain mbox.

Two more modes:
- `--proof`: the table of docs/ingest.md ("Real data"): per corpus of
  ../shared/data/mail, messages read / duplicate / rejected by reason / bulk, their sum
  against the messages present (counted apart from the reader: a strict envelope line
  followed by a header line), phantom (a message the reader made where no envelope is)
  and lost (an envelope the reader did not make a message of).
- `--memory [--size-mb 1024]` (issue 17): generates an mbox of that size and one of
  10 MB, runs `stakeholder route` (and, apart, the reader alone) over each in a child
  process and compares their peak resident memory (budget: within 2x).
Run: python -m benchmarks ingest [--scale 0.05] [--seed 7] [--no-real] [--proof]
     [--memory --size-mb 200]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import email.policy
import gzip
import mailbox
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from benchmarks._harness import machine, timed
from stakeholder import Contact
from stakeholder.ingest import ReadLimits, iter_communications, read_communications, read_contacts

MESSAGES = 200_000
CONTACT_ROWS = 1_000_000
_FIRST = ("Anna", "Ben", "Chloe", "Dev", "Emma", "Finn", "Grace", "Hugo", "Isla", "Jack")
_LAST = ("Smith", "Jones", "Patel", "Khan", "Brown", "Wilson", "Taylor", "Davies", "Evans")
_WORDS = ("quote", "renewal", "meeting", "invoice", "update", "question", "review", "plan")


def _person(rnd: random.Random, domains: list[str]) -> tuple[str, str]:
    first, last = rnd.choice(_FIRST), rnd.choice(_LAST)
    domain = domains[min(int(rnd.paretovariate(1.2)) - 1, len(domains) - 1)]  # Zipf-like
    return f"{first} {last}", f"{first.lower()}.{last.lower()}{rnd.randrange(100)}@{domain}"


def write_mbox(path: Path, count: int, seed: int) -> None:
    rnd = random.Random(seed)
    domains = [f"company{i}.com" for i in range(5000)]
    body_line = ("lorem ipsum dolor sit amet consectetur adipiscing elit " * 2).strip() + "\n"
    with path.open("wb") as out:
        for i in range(count):
            name, sender = _person(rnd, domains)
            recipients = [_person(rnd, domains) for _ in range(rnd.randint(1, 9))]
            split = rnd.randint(1, len(recipients))
            to = ", ".join(f'"{n}" <{a}>' for n, a in recipients[:split])
            cc = ", ".join(f"{n} <{a}>" for n, a in recipients[split:])
            day = 1 + i % 28
            lines = [
                f"From {sender} Mon Mar {day:2d} 10:00:00 2024",
                f'From: "{name}" <{sender}>',
                f"To: {to}",
            ]
            if cc:
                lines.append(f"Cc: {cc}")
            lines += [
                f"Date: Mon, {day:02d} Mar 2024 {i % 24:02d}:{i % 60:02d}:00 +0100",
                f"Subject: {'Re: ' if i % 2 else ''}{rnd.choice(_WORDS)} {i}",
                f"Message-ID: <{i}.{seed}@{sender.split('@')[1]}>",
            ]
            if i % 2 and i > 10:
                parent = rnd.randrange(i - 10, i)
                lines += [f"In-Reply-To: <{parent}.{seed}@x>", f"References: <{parent}.{seed}@x>"]
            lines += ["", body_line * rnd.randint(10, 30)]
            out.write("\n".join(lines).encode("utf-8"))


def write_contacts(path: Path, count: int, seed: int) -> None:
    rnd = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["id", "account_id", "email", "phone", "name", "created_at", "conversions", "tags"]
        )
        for i in range(count):
            first, last = rnd.choice(_FIRST), rnd.choice(_LAST)
            writer.writerow([
                f"c{i}", f"a{rnd.randrange(100_000)}",
                f"{first.lower()}.{last.lower()}{i}@company{rnd.randrange(50_000)}.com",
                f"+44 7{rnd.randrange(10**8, 10**9)}", f"{first} {last}",
                f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}T09:00:00+00:00", rnd.randrange(5),
                "vip;beta" if i % 7 == 0 else "",
            ])


def stdlib_mailbox(path: Path) -> list[tuple[object, ...]]:
    """The plain-stdlib route: mailbox.mbox, the same fields into tuples (kept, as ours
    keeps its values)."""
    box = mailbox.mbox(path, factory=None, create=False)
    records: list[tuple[object, ...]] = []
    try:
        for msg in box:
            people = []
            for header in ("from", "to", "cc", "bcc"):
                people.extend(getaddresses([str(v) for v in msg.get_all(header, [])]))
            try:
                when = parsedate_to_datetime(str(msg["date"]))
            except (TypeError, ValueError):
                when = None
            records.append(
                (msg["message-id"], when, people, msg["references"], msg["subject"])
            )
    finally:
        box.close()
    return records


def stream_count(path: Path) -> int:
    """`iter_communications` without keeping anything: the streaming cost."""
    return sum(1 for _ in iter_communications(path))


def contacts_bare(rows: list[dict[str, str]]) -> list[Contact]:
    """What a caller would write without the reader: no checks, no rejections (one bad
    row would raise)."""
    return [
        Contact(
            id=row["id"], account_id=row["account_id"], email=row["email"] or None,
            phone=row["phone"] or None, name=row["name"] or None,
            created_at=dt.datetime.fromisoformat(row["created_at"]),
            conversions=int(row["conversions"]),
            tags=row["tags"].split(";") if row["tags"] else (),
        )
        for row in rows
    ]


def timed_line(label: str, func: object, *args: object) -> tuple[float, object]:
    """Time `func(*args)` and print its line."""
    wall, cpu, result = timed(lambda: func(*args))  # type: ignore[operator]
    print(f"  {label:<44} {cpu:8.2f} s CPU ({wall:.2f} s wall)")
    return cpu, result  # CPU time: the steadier figure on a shared machine


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks ingest")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-real", action="store_true", help="skip the real r-sig-geo archive")
    parser.add_argument("--proof", action="store_true", help="only the real-data table")
    parser.add_argument("--memory", action="store_true", help="only the route memory run")
    parser.add_argument("--size-mb", type=int, default=1024, help="--memory: the big mbox")
    args = parser.parse_args(argv)
    if args.proof:
        return proof()
    if args.memory:
        return memory(args.size_mb, args.seed)
    messages = max(100, int(MESSAGES * args.scale))
    rows = max(100, int(CONTACT_ROWS * args.scale))
    print(machine())
    print(f"scale {args.scale}: {messages:,} messages, {rows:,} contact rows")
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "mail.mbox"
        write_mbox(plain, messages, args.seed)
        packed = Path(tmp) / "mail.mbox.gz"
        with plain.open("rb") as src, gzip.open(packed, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst)
        size = plain.stat().st_size / 1e6
        print(f"mail: {size:.0f} MB plain, {packed.stat().st_size / 1e6:.0f} MB gzipped")
        # ours and the stdlib take turns, twice; the best of each counts (the machine is shared)
        ours_s, ours = timed_line("ours read_communications (plain)", read_communications, plain)
        base_s, base = timed_line("stdlib mailbox.mbox + getaddresses (plain)", stdlib_mailbox, plain)
        again_s, _ = timed_line("ours read_communications (plain), again", read_communications, plain)
        base2_s, _ = timed_line("stdlib, again", stdlib_mailbox, plain)
        ours_s, base_s = min(ours_s, again_s), min(base_s, base2_s)
        gz_s, ours_gz = timed_line("ours read_communications (gzip)", read_communications, packed)
        it_s, streamed = timed_line("ours iter_communications, nothing kept (gzip)", stream_count, packed)
        assert ours.present == len(base) == streamed == messages  # type: ignore[attr-defined, arg-type]
        del base
        assert len(ours_gz.items) == len(ours.items)  # type: ignore[attr-defined]
        print(f"  ours {messages / ours_s:,.0f} msg/s ({size / ours_s:.0f} MB/s), "
              f"gzip {messages / gz_s:,.0f} msg/s, streaming {messages / it_s:,.0f} msg/s, "
              f"stdlib {messages / base_s:,.0f} msg/s")
        print(f"  best of two: ratio stdlib time / ours time: {base_s / ours_s:.2f}x; ours / stdlib "
              f"{ours_s / base_s:.2f}x (budget <= 1.2)")

        contacts = Path(tmp) / "contacts.csv"
        write_contacts(contacts, rows, args.seed)
        c_s, result = timed_line("ours read_contacts", read_contacts, contacts)
        with contacts.open(newline="", encoding="utf-8") as f:
            d_s, dicts = timed_line("csv.DictReader to dicts (no validation)", list, csv.DictReader(f))
        m_s, built = timed_line("DictReader rows straight into Contact(...)", contacts_bare, dicts)
        assert len(result.items) == len(dicts) == len(built) == rows  # type: ignore[attr-defined]
        print(f"  ours {rows / c_s:,.0f} rows/s, DictReader {rows / d_s:,.0f} rows/s, "
              f"bare Contact {rows / m_s:,.0f} rows/s; ours/DictReader time {c_s / d_s:.1f}x, "
              f"ours/bare-Contact time {c_s / m_s:.2f}x")
    if not args.no_real:
        real = Path(__file__).resolve().parent.parent.parent / "shared/data/mail/r-lists/r-sig-geo.mbox.gz"
        if real.exists():
            r_s, r = timed_line("ours read_communications r-sig-geo.mbox.gz", read_communications, real)
            total = r.present  # type: ignore[attr-defined]
            print(f"  real: {total:,} messages ({len(r.rejections)} rejected, "  # type: ignore[attr-defined]
                  f"{len(r.duplicates)} duplicates) at {total / r_s:,.0f} msg/s")  # type: ignore[attr-defined]
        else:
            print(f"  real archive not found at {real}; skipped")
    del email.policy
    return 0


# --------------------------------------------------------------------------- proof table

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "mail"
_ASCTIME = re.compile(
    rb"From .+? +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
    rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}\r?\n"
)


def envelope_lines(path: Path) -> tuple[set[int], int]:
    """Line numbers of real envelope lines (a strict asctime envelope followed by a
    header line), and how many other lines start with 'From ' (the stdlib splits there)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    real: set[int] = set()
    body = 0
    previous = b""
    with opener(path, "rb") as f:
        for number, line in enumerate(f, start=1):
            if previous.startswith(b"From "):
                if _ASCTIME.fullmatch(previous) and re.match(rb"[\w-]+: ", line):
                    real.add(number - 1)
                else:
                    body += 1
            previous = line
    return real, body


def _corpora() -> list[tuple[str, Path, bool]]:
    """(label, path, is an mbox) per corpus file."""
    return [
        ("SpamAssassin public corpus (JSONL of raw messages)",
         DATA / "spamassassin" / "spamassassin_public_corpus.jsonl.gz", False),
        ("3GPP SA WG4 EVS (mbox)", DATA / "3gpp" / "3GPP_mbox" / "3GPP_TSG_SA_WG4_EVS.mbox", True),
        ("3GPP RAN WG4 NR-MIMO-OTA (mbox)",
         DATA / "3gpp" / "3GPP_mbox" / "3GPP_TSG_RAN_WG4_NR-MIMO-OTA.mbox", True),
        ("3GPP pipermail 2001-November.txt", DATA / "3gpp" / "2001-November.txt", True),
        ("3GPP LISTSERV logs (folder)", DATA / "3gpp" / "3GPP", False),
        ("R r-sig-finance (mbox.gz)", DATA / "r-lists" / "r-sig-finance.mbox.gz", True),
        ("R r-sig-geo (mbox.gz)", DATA / "r-lists" / "r-sig-geo.mbox.gz", True),
    ]


def _present(path: Path, is_mbox: bool) -> int | str:
    """Messages present, counted apart from the reader."""
    if is_mbox:
        return len(envelope_lines(path)[0])
    if path.is_dir():  # LISTSERV logs: separator lines, plus one per other file
        total = 0
        for item in sorted(path.rglob("*")):
            if item.is_file():
                found = len(re.findall(rb"^={73}\r?$", item.read_bytes(), re.MULTILINE))
                total += found if re.search(r"\.LOG\d{4}[A-Z]?$", item.name) else 1
        return total
    with gzip.open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def proof() -> int:
    """Print the real-data table of docs/ingest.md."""
    print(machine())
    print("| corpus | present | read | duplicate | rejected (by reason) | bulk | "
          "read+dup+rej | stdlib splits | phantom | lost |")
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for label, path, is_mbox in _corpora():
        if not path.exists():
            print(f"| {label} | missing: {path} | | | | | | | | |")
            continue
        result = read_communications(path)
        present = _present(path, is_mbox)
        reasons = Counter(_reason_kind(r.reason) for r in result.rejections)
        by_reason = "; ".join(f"{n} {k}" for k, n in sorted(reasons.items(), key=lambda kv: -kv[1]))
        bulk = sum(1 for c in result.items if c.headers is not None and c.headers.is_bulk)
        phantom = lost = stdlib = "-"
        if is_mbox:
            real, body = envelope_lines(path)
            ours = {int(w.rsplit(":", 1)[1]) for w in _wheres(path)}
            phantom, lost, stdlib = str(len(ours - real)), str(len(real - ours)), str(len(real) + body)
        print(f"| {label} | {present:,} | {len(result.items):,} | {len(result.duplicates):,} | "
              f"{len(result.rejections):,}{': ' + by_reason if by_reason else ''} | {bulk:,} | "
              f"{result.present:,} | {stdlib} | {phantom} | {lost} |")
    return 0


def _wheres(path: Path) -> list[str]:
    """Where (``file:line`` of its envelope line) each message the reader made starts."""
    from stakeholder.ingest._files import FileNote
    from stakeholder.ingest._sources import _items

    return [where for _, _, where, item in _items(path, None, ReadLimits())
            if not isinstance(item, FileNote)]


def _reason_kind(reason: str) -> str:
    """A rejection reason without its variable part (the value quoted in it)."""
    return re.sub(r"\s*'.*", "", reason).split(":")[0].strip()


# --------------------------------------------------------------------------- memory

_CHILD = """
import resource, sys
from stakeholder.cli import main
from stakeholder.ingest import iter_communications
mode, path, accounts, contacts = sys.argv[1:5]
if mode == "read":
    count = sum(1 for _ in iter_communications(path))
else:
    code = main(["route", "--accounts", accounts, "--contacts", contacts, "--comms", path,
                 "--no-progress"])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_kib(mode: str, path: Path, accounts: Path, contacts: Path) -> tuple[int, float]:
    """(peak resident KiB, seconds) of one child process."""
    wall, _, done = timed(lambda: subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(path), str(accounts), str(contacts)],
        capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src")},
    ))
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return int(done.stdout.strip().splitlines()[-1]), wall


def memory(size_mb: int, seed: int) -> int:
    """Route peak memory over a `size_mb` MB mbox against a 10 MB one (issue 17)."""
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        accounts, contacts = root / "accounts.csv", root / "contacts.csv"
        accounts.write_text("id,name,domains\n" + "".join(
            f"a{i},Company {i},company{i}.com\n" for i in range(5000)), encoding="utf-8")
        contacts.write_text("id,account_id,email\n" + "".join(
            f"c{i},a{i % 5000},anna.smith{i % 100}@company{i % 5000}.com\n" for i in range(20000)),
            encoding="utf-8")
        per_message = 2700  # bytes a generated message takes, about
        rows = []
        for label, megabytes in (("10 MB", 10), (f"{size_mb} MB", size_mb)):
            path = root / f"{megabytes}.mbox"
            count = megabytes * 10**6 // per_message
            write_mbox(path, count, seed)
            actual = path.stat().st_size / 1e6
            read_kib, read_s = _peak_kib("read", path, accounts, contacts)
            route_kib, route_s = _peak_kib("route", path, accounts, contacts)
            rows.append((label, actual, count, read_kib, read_s, route_kib, route_s))
            print(f"  {label}: {actual:.0f} MB, {count:,} messages; reader peak {read_kib / 1024:.0f} MiB "
                  f"({read_s:.0f} s), route peak {route_kib / 1024:.0f} MiB ({route_s:.0f} s)")
            path.unlink()
        small, big = rows
        print(f"  reader peak ratio {big[3] / small[3]:.2f}x; route peak ratio "
              f"{big[5] / small[5]:.2f}x (budget <= 2.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
