"""Ingest: reading mail and CRM exports, against the standard library doing the same.

Workloads (scale 1):
- mail: a generated mbox of 200,000 messages (headers like real list mail: From with
  display names, 1 to 9 To/Cc addresses, Date with a zone, Message-ID, half of them
  replies with In-Reply-To/References, 1 to 3 KB bodies), gzipped and not.
- contacts: a generated CSV of 1,000,000 contact rows (id, account_id, email, phone,
  name, created_at, conversions, tags).
- real: the real archive ../shared/data/mail/r-lists/r-sig-geo.mbox.gz (29,609
  messages), whatever the scale.

Compared in the same process:
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

Both mail readers must find the same number of messages. Budget: ours at least as fast
as the stdlib mailbox route on the plain mbox.
Run: python -m benchmarks ingest [--scale 0.05] [--seed 7] [--no-real]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import email.policy
import gzip
import mailbox
import random
import shutil
import sys
import tempfile
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from benchmarks._harness import machine, timed
from stakeholder import Contact
from stakeholder.ingest import iter_communications, read_communications, read_contacts

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
    seconds, _, result = timed(lambda: func(*args))  # type: ignore[operator]
    print(f"  {label:<44} {seconds:8.2f} s")
    return seconds, result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks ingest")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-real", action="store_true", help="skip the real r-sig-geo archive")
    args = parser.parse_args(argv)
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
        ours_s, ours = timed_line("ours read_communications (plain)", read_communications, plain)
        gz_s, ours_gz = timed_line("ours read_communications (gzip)", read_communications, packed)
        it_s, streamed = timed_line("ours iter_communications, nothing kept (gzip)", stream_count, packed)
        base_s, base = timed_line("stdlib mailbox.mbox + getaddresses (plain)", stdlib_mailbox, plain)
        assert len(ours.items) + len(ours.rejections) == len(base) == streamed == messages  # type: ignore[attr-defined, arg-type]
        del base
        assert len(ours_gz.items) == len(ours.items)  # type: ignore[attr-defined]
        print(f"  ours {messages / ours_s:,.0f} msg/s ({size / ours_s:.0f} MB/s), "
              f"gzip {messages / gz_s:,.0f} msg/s, streaming {messages / it_s:,.0f} msg/s, "
              f"stdlib {messages / base_s:,.0f} msg/s")
        print(f"  ratio stdlib time / ours time: {base_s / ours_s:.2f}x (budget >= 1.0)")

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
            total = len(r.items) + len(r.rejections)  # type: ignore[attr-defined]
            print(f"  real: {total:,} messages ({len(r.rejections)} rejected) "  # type: ignore[attr-defined]
                  f"at {total / r_s:,.0f} msg/s")
        else:
            print(f"  real archive not found at {real}; skipped")
    del email.policy
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
