"""Durations as Go's time.ParseDuration reads them ("5m", "1h30m", "1.5s"), which is how
agent definitions carry them (sheet §3.2 idle_timeout); volume TTLs also take days ("7d",
sheet §8 #11)."""

from __future__ import annotations

import re

from agyn_common.errors import invalid_argument

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DAY = {"d": 86400.0}
MAX_CHARS = 64


def _grammar(units: dict[str, float]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    # Longest units first, so that "ms" is never read as "m" followed by "s".
    names = "|".join(sorted(units, key=len, reverse=True))
    part = re.compile(rf"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)({names})")
    return part, re.compile(rf"\+?(?:{part.pattern})+")


_GO = _grammar(_UNITS)
_WITH_DAYS = _grammar({**_UNITS, **_DAY})


def positive_duration(value: str, field: str, *, days: bool = False) -> str:
    """`value` unchanged when it is a duration above zero; INVALID_ARGUMENT on `field` otherwise."""
    part, whole = _WITH_DAYS if days else _GO
    if len(value) > MAX_CHARS or not whole.fullmatch(value):
        example = "7d or 24h" if days else "5m or 1h30m"
        raise invalid_argument(field, f"must be a duration such as {example}, got {value[:MAX_CHARS]!r}")
    units = {**_UNITS, **_DAY}
    if sum(float(number) * units[unit] for number, unit in part.findall(value)) <= 0:
        raise invalid_argument(field, "must be greater than zero")
    return value
