"""Small wording helpers shared by ownership explanations and rejections."""

from __future__ import annotations


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _contacts(n: int) -> str:
    return _count(n, "contact")


def _were(n: int) -> str:
    return f"{_contacts(n)} there " + ("was" if n == 1 else "were")


def _accounts(n: int) -> str:
    return _count(n, "account")




def _shown(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _article(name: str) -> str:
    return ("an " if name[:1] in "AEIOU" else "a ") + name


