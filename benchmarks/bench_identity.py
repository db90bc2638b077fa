"""Identity: normalising addresses and finding registrable domains, against the libraries
a team would otherwise call directly, in the same process.

Workload (scale 1):
- addresses: a stream of 1,000,000 raw addresses drawn Zipf-like (s = 1.1) from a
  population of 200,000 distinct spellings, so popular senders repeat as in real mail.
  The population is mostly plain ASCII (`first.last@company123.co.uk`, some upper case,
  some sub-addresses, some `mail.` subdomains, 15% at free-mail providers); about 2.5%
  have an internationalised domain (`jörg@bücher12.de`, `info@例え7.jp`) and 2.5% a quoted
  display name (`"Doe, Jane" <jane.doe@acme.com>`); about 0.5% are invalid.
- hosts: 1,000,000 registrable-domain look-ups drawn Zipf-like from 20,000 distinct
  host names (the domains of the population, with and without subdomains).

Compared:
- ours: `EmailAddress.parse(raw)` on every address of the stream, its caches cleared
  first (so the run includes every cold parse), and again with the cache bypassed
  (`_identity._parse`, the uncached parser) on the distinct addresses, to show what the
  cache and the fast path each bring.
- email-validator: `validate_email(raw, check_deliverability=False,
  allow_display_name=True)` on every address of the stream (display names allowed so it
  does the same job). With `--validator-sample N` it runs on the first N addresses of
  the stream only and its per-address cost is extrapolated (the output says so).
- registrable domains: `registrable_domain(host)` warm (cache filled by a first pass),
  against tldextract's own extractor, offline on the same bundled snapshot
  (`TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)`,
  `.top_domain_under_public_suffix`).

Ours runs `--repeat` times (default 3) and the fastest run counts; email-validator
runs once (its long run averages out the noise of a shared machine).
Both address routes must accept the same addresses. Budgets: ours >= 20x
email-validator's throughput; registrable-domain look-ups >= 1,000,000 per second warm.
Run: python -m benchmarks identity [--scale 0.05] [--seed 7] [--validator-sample N]
     [--repeat 3]
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from collections.abc import Callable, Sequence

import email_validator
import tldextract

from benchmarks._harness import Timing, machine, timed
from stakeholder import EmailAddress, InvalidEmail, _identity, registrable_domain

STREAM = 1_000_000
POPULATION = 200_000
HOST_LOOKUPS = 1_000_000
HOSTS = 20_000
ZIPF_S = 1.1

_FIRST = ("anna", "ben", "chloe", "dev", "emma", "finn", "grace", "hugo", "isla", "jack",
          "karim", "lena", "mateo", "nora", "omar", "priya", "quinn", "rosa", "sven", "yuki")
_LAST = ("smith", "jones", "patel", "khan", "brown", "wilson", "taylor", "davies", "evans",
         "garcia", "muller", "rossi", "novak", "tanaka", "kim", "silva", "dubois", "berg")
_WORDS = ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell",
          "cyberdyne", "soylent", "wonka", "gringotts", "oscorp", "vandelay", "dunder")
_SUFFIXES = ("com", "com", "com", "co.uk", "de", "io", "com.au", "fr", "net", "org", "co.jp")
_FREE = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "gmx.de",
         "web.de", "proton.me", "aol.com", "mail.ru")
_IDN = ("bücher{i}.de", "müller{i}.de", "例え{i}.jp", "пример{i}.рф", "straße{i}.de",
        "ñandú{i}.es", "café{i}.fr", "δοκιμή{i}.gr")
_IDN_LOCALS = ("jörg", "zoë", "søren", "info", "kontakt", "josé")
_INVALID = ("{local}@{domain}.", "{local}..x@{domain}", "{local}@@{domain}", "{local}",
            "{local}@localhost", "{local} at {domain}")


def _company_domains(rnd: random.Random, count: int) -> list[str]:
    return [f"{rnd.choice(_WORDS)}{i}.{rnd.choice(_SUFFIXES)}" for i in range(count)]


def _local(rnd: random.Random) -> str:
    first, last = rnd.choice(_FIRST), rnd.choice(_LAST)
    shape = rnd.random()
    if shape < 0.5:
        local = f"{first}.{last}"
    elif shape < 0.7:
        local = f"{first[0]}{last}"
    elif shape < 0.85:
        local = f"{first}{rnd.randrange(1000)}"
    else:
        local = first
    if rnd.random() < 0.05:
        local += f"+{rnd.choice(('crm', 'news', 'billing'))}"
    return local


def build_population(rnd: random.Random, size: int, domains: list[str]) -> list[str]:
    """Distinct raw spellings: mostly ASCII, ~2.5% IDN, ~2.5% display names, ~0.5% invalid."""
    population: set[str] = set()
    while len(population) < size:
        draw = rnd.random()
        local = _local(rnd)
        if rnd.random() < 0.15:
            domain = rnd.choice(_FREE)
        else:
            domain = domains[min(int(rnd.paretovariate(1.0)) - 1, len(domains) - 1)]
            if rnd.random() < 0.1:
                domain = f"mail.{domain}"
        if draw < 0.025:
            idn = rnd.choice(_IDN).format(i=rnd.randrange(50))
            raw = f"{rnd.choice(_IDN_LOCALS) if rnd.random() < 0.3 else local}@{idn}"
        elif draw < 0.05:
            first, _, last = local.partition(".")
            raw = f'"{last.title() or "Team"}, {first.title()}" <{local}@{domain}>'
        elif draw < 0.055:
            raw = rnd.choice(_INVALID).format(local=local, domain=domain)
        else:
            raw = f"{local}@{domain}"
            if rnd.random() < 0.1:
                raw = raw.title() if rnd.random() < 0.5 else raw.upper()
        population.add(raw)
    return sorted(population)


def zipf_stream(rnd: random.Random, items: Sequence[str], count: int) -> list[str]:
    """`count` draws from `items` with weight 1 / rank ** ZIPF_S, ranks shuffled."""
    order = list(items)
    rnd.shuffle(order)
    weights = list(itertools.accumulate(1 / (rank**ZIPF_S) for rank in range(1, len(order) + 1)))
    return rnd.choices(order, cum_weights=weights, k=count)


def _clear_caches() -> None:
    _identity._parse_cached.cache_clear()
    _identity._parse_default.cache_clear()
    _identity._validated_domain.cache_clear()
    _identity._host_or_error.cache_clear()
    _identity._registrable_or_error.cache_clear()


def _ours(stream: list[str]) -> int:
    parse = EmailAddress.parse
    valid = 0
    for raw in stream:
        try:
            parse(raw)
        except InvalidEmail:
            continue
        valid += 1
    return valid


def _ours_uncached(items: list[str]) -> int:
    parse, policy = _identity._parse, _identity.DEFAULT_IDENTITY_POLICY
    valid = 0
    for raw in items:
        try:
            parse(raw, policy)
        except InvalidEmail:
            continue
        valid += 1
    return valid


def _validator(stream: list[str]) -> int:
    validate, error = email_validator.validate_email, email_validator.EmailNotValidError
    valid = 0
    for raw in stream:
        try:
            validate(raw, check_deliverability=False, allow_display_name=True)
        except error:
            continue
        valid += 1
    return valid


def _best(
    function: Callable[[], int], repeat: int, before: Callable[[], None] | None = None
) -> Timing:
    """The fastest of `repeat` runs (the machine may be shared; the minimum is the cost)."""
    runs = []
    for _ in range(max(1, repeat)):
        if before is not None:
            before()
        runs.append(timed(function))
    return Timing(min(r.wall for r in runs), min(r.cpu for r in runs), runs[0].result)


def _lookups(hosts: list[str]) -> int:
    function = registrable_domain
    for host in hosts:
        function(host)
    return len(hosts)


def _tldextract_lookups(extract: tldextract.TLDExtract, hosts: list[str]) -> int:
    for host in hosts:
        _ = extract(host).top_domain_under_public_suffix
    return len(hosts)


def _rates(count: int, timing: Timing) -> str:
    return (
        f"{count / timing.wall:>12,.0f}/s wall {count / max(timing.cpu, 1e-9):>12,.0f}/s CPU"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks identity")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--validator-sample",
        type=int,
        default=0,
        help="run email-validator on the first N addresses only and extrapolate",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of ours; the best counts")
    args = parser.parse_args(argv)
    rnd = random.Random(args.seed)
    stream_size = max(1000, int(STREAM * args.scale))
    population_size = max(200, int(POPULATION * args.scale))
    domains = _company_domains(rnd, max(100, int(HOSTS * args.scale * 0.6)))

    print(machine())
    print(
        f"versions: email-validator {email_validator.__version__}, "
        f"tldextract {tldextract.__version__}"
    )
    population = build_population(rnd, population_size, domains)
    stream = zipf_stream(rnd, population, stream_size)
    distinct = len(set(stream))
    print(f"workload: {len(stream):,} addresses, {distinct:,} distinct "
          f"(population {len(population):,}, Zipf s={ZIPF_S})")

    label = f"best of {args.repeat}"
    ours = _best(lambda: _ours(stream), args.repeat, before=_clear_caches)
    print(f"ours       EmailAddress.parse, cold caches {_rates(len(stream), ours)}  "
          f"{ours.wall:7.2f} s  valid {ours.result:,}  ({label})")

    unique = sorted(set(stream))
    uncached = _best(lambda: _ours_uncached(unique), args.repeat, before=_clear_caches)
    print(f"ours       uncached parse, distinct only   {_rates(len(unique), uncached)}")

    sample = stream if args.validator_sample <= 0 else stream[: args.validator_sample]
    ev = timed(lambda: _validator(sample))
    note = "" if sample is stream else f"  (sample of {len(sample):,}, extrapolated)"
    print(f"baseline   email-validator per address     {_rates(len(sample), ev)}  "
          f"{ev.wall * len(stream) / len(sample):7.2f} s{note}")
    if sample is stream:
        same = ev.result == ours.result
        print("same addresses accepted: " + ("yes" if same else f"NO ({ev.result:,})"))
    wall_ratio = (len(stream) / ours.wall) / (len(sample) / ev.wall)
    cpu_ratio = (len(stream) / ours.cpu) / (len(sample) / ev.cpu)
    print(f"ratio      ours / email-validator          {wall_ratio:12.1f}x wall "
          f"{cpu_ratio:12.1f}x CPU  (budget >= 20x: "
          f"{'met' if min(wall_ratio, cpu_ratio) >= 20 else 'MISSED'})")

    host_pool = sorted({h for d in domains for h in (d, f"mail.{d}", f"www.{d}")})[:HOSTS]
    hosts = zipf_stream(rnd, host_pool, max(1000, int(HOST_LOOKUPS * args.scale)))
    _clear_caches()
    _lookups(hosts)  # warm
    lookups = _best(lambda: _lookups(hosts), args.repeat)
    extract = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )
    _tldextract_lookups(extract, hosts[:1000])  # load its snapshot
    baseline = timed(lambda: _tldextract_lookups(extract, hosts))
    rate = len(hosts) / max(lookups.wall, lookups.cpu)
    print(f"workload: {len(hosts):,} host look-ups over {len(set(hosts)):,} distinct hosts")
    print(f"ours       registrable_domain, warm        {_rates(len(hosts), lookups)}  ({label}; "
          f"budget >= 1,000,000/s: {'met' if rate >= 1_000_000 else 'MISSED'}; "
          f"cache bound {_identity._registrable_or_error.cache_info().maxsize:,})")
    print(f"baseline   tldextract, offline snapshot    {_rates(len(hosts), baseline)}")
    print(f"ratio      ours / tldextract               {baseline.wall / lookups.wall:12.1f}x wall "
          f"{baseline.cpu / max(lookups.cpu, 1e-9):12.1f}x CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
