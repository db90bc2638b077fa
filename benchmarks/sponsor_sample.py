"""Generate the sponsor-tracking sample (`src/stakeholder/_sample/sponsors/`), once,
deterministically: 40 accounts, 240 tracked people, 4 weekly profile snapshots (JSONL)
with title, company (departures and moves into other known accounts) and location
changes, case/spacing-only noise that is no change, deleted profiles, people without a
profile and namesakes. Run: python -m benchmarks.sponsor_sample [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src" / "stakeholder" / "_sample" / "sponsors"
DATES = (dt.date(2026, 10, 5), dt.date(2026, 10, 12), dt.date(2026, 10, 19),
         dt.date(2026, 10, 26))
_FIRST = ("Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jade", "Kai",
          "Lena", "Milo", "Nia", "Omar", "Pia", "Quin", "Rosa", "Sami", "Tara")
_LAST = ("Abbott", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Haddad", "Ito",
         "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Patel")
_TITLES = ("VP Sales", "Head of Operations", "Director of IT", "Chief Revenue Officer",
           "Procurement Manager", "CFO", "Head of Customer Success", "CTO")
_CITIES = ("London, UK", "Berlin, Germany", "Austin, TX", "Toronto, Canada", "Paris, France",
           "Singapore", "Sydney, Australia", "Madrid, Spain")
_WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne",
          "Wonka", "Cyberdyne", "Tyrell", "Soylent", "Gringotts", "Oscorp", "Pied Piper",
          "Massive", "Nakatomi", "Aperture", "Black Mesa", "Monarch")
_ELSEWHERE = (("Bluth Company", "bluth.com"), ("Dunder Mifflin", "dundermifflin.com"),
              ("Prestige Worldwide", None), ("Sterling Cooper", "sterlingcooper.com"))


def _accounts() -> list[dict[str, str]]:
    out = []
    for i in range(40):
        word = _WORDS[i % len(_WORDS)]
        name = f"{word} {'Labs' if i >= len(_WORDS) else 'Corp'}"
        slug = name.lower().replace(" ", "")
        out.append({"id": f"acct-{i:02d}", "name": name, "domains": f"{slug}.com",
                    "aliases": word if i < len(_WORDS) else ""})
    return out


def _profile(person: dict[str, str], acct: dict[str, str], at: dt.date,
             rnd: random.Random) -> dict[str, object]:
    return {
        "source": "sample", "url": f"https://profiles.example/in/{person['id']}",
        "name": person["name"], "title": person["title"], "company": acct["name"],
        "company_domain": acct["domains"], "location": rnd.choice(_CITIES),
        "observed_at": f"{at.isoformat()}T06:00:00+00:00",
    }


def _evolve(state: dict[str, object], rnd: random.Random, accounts: list[dict[str, str]],
            at: dt.date) -> dict[str, object] | None:
    """The profile a week later: None when deleted."""
    new = dict(state, observed_at=f"{at.isoformat()}T06:00:00+00:00")
    roll = rnd.random()
    if roll < 0.01:
        return None
    if roll < 0.07:
        new["title"] = rnd.choice(_TITLES)
    elif roll < 0.09:
        company, domain = rnd.choice(_ELSEWHERE)
        new["company"], new["company_domain"] = company, domain
    elif roll < 0.11:
        other = rnd.choice(accounts)
        new["company"], new["company_domain"] = other["name"], other["domains"]
    elif roll < 0.13:
        new["location"] = rnd.choice(_CITIES)
    elif roll < 0.20:  # noise: case and spacing only, never a change
        new["title"] = "  " + str(new["title"]).upper().replace(" ", "  ")
    return new


def generate(out: Path, seed: int = 13) -> dict[str, int]:
    rnd = random.Random(seed)
    accounts = _accounts()
    people: list[dict[str, str]] = []
    for i in range(240):
        acct = accounts[i % 36]  # the last four accounts have no sponsor: coverage gaps
        name = f"{_FIRST[i % len(_FIRST)]} {_LAST[(i * 7) % len(_LAST)]}"
        first = name.split(maxsplit=1)[0].lower()
        people.append({"id": f"p-{i:03d}", "account_id": acct["id"], "name": name,
                       "email": f"{first}.{i:03d}@{acct['domains']}",
                       "title": rnd.choice(_TITLES)})
    out.mkdir(parents=True, exist_ok=True)
    (out / "profiles").mkdir(exist_ok=True)
    with (out / "accounts.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["id", "name", "domains", "aliases"], lineterminator="\n")
        w.writeheader()
        w.writerows(accounts)
    with (out / "contacts.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["id", "account_id", "name", "email", "title"],
                           lineterminator="\n")
        w.writeheader()
        w.writerows(people)
    (out / "key_accounts.txt").write_text(
        "".join(a["id"] + "\n" for a in accounts[::3]), encoding="utf-8")
    by_id = {a["id"]: a for a in accounts}
    states: dict[str, dict[str, object] | None] = {}
    for p in people:
        if int(p["id"][2:]) % 25 != 7:  # every 25th person has no profile: No Match Found
            states[p["id"]] = _profile(p, by_id[p["account_id"]], DATES[0], rnd)
    lines = 0
    for n, day in enumerate(DATES):
        rows = []
        for pid in sorted(states):
            state = states[pid]
            if n and state is not None:
                state = states[pid] = _evolve(state, rnd, accounts, day)
            if state is None:
                rows.append({"url": f"https://profiles.example/in/{pid}", "gone": True,
                             "observed_at": f"{day.isoformat()}T06:00:00+00:00"})
                continue
            rows.append(state)
            if int(pid[2:]) % 40 == 3:  # a namesake elsewhere
                rows.append(dict(state, url=str(state["url"]) + "-namesake",
                                 company="Other Industries", company_domain="other.example",
                                 title="Student", location="Lima, Peru"))
        text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)
        (out / "profiles" / f"{day.isoformat()}.jsonl").write_text(text, encoding="utf-8")
        lines += len(rows)
    return {"accounts": len(accounts), "people": len(people), "profile_lines": lines}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    print(generate(args.out, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
