"""Durations as people write them for a grace period: ``2d``, ``36h``, ``1d12h``, ``P2D``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from stakeholder._errors import ConfigurationError

__all__ = ["parse_duration"]

_UNITS: Final = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART: Final = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])")
_ISO: Final = re.compile(
    r"P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?"
)


def parse_duration(text: str) -> dt.timedelta:
    """A non-negative duration from ``2d``, ``36h``, ``1d12h``, ``90m``, ``1w``, a bare
    number of days (``3``) or ISO 8601 (``P2D``, ``PT36H``). Raises
    `ConfigurationError` for anything else.

    >>> parse_duration("1d12h")
    datetime.timedelta(days=1, seconds=43200)
    """
    try:
        return _parse(text)
    except (OverflowError, ValueError) as exc:
        if isinstance(exc, ConfigurationError):
            raise
        raise ConfigurationError(f"{text!r} is too long a duration") from exc


def _parse(text: str) -> dt.timedelta:
    if not isinstance(text, str) or not text.strip() or len(text) > 64:
        raise ConfigurationError(f"{text!r} is not a duration (e.g. 2d, 36h, 1d12h, P2D)")
    raw = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return dt.timedelta(days=float(raw))
    iso = _ISO.fullmatch(raw.upper())
    if iso is not None and raw != "p" and not raw.endswith("t"):
        seconds = sum(int(v) * _UNITS[k.lower()] for k, v in iso.groupdict().items() if v)
        return dt.timedelta(seconds=seconds)
    compact = raw.replace(" ", "")
    parts = _PART.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ConfigurationError(f"{text!r} is not a duration (e.g. 2d, 36h, 1d12h, P2D)")
    return dt.timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))
