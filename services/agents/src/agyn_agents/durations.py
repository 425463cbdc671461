"""Durations as Go's time.ParseDuration reads them ("5m", "1h30m", "1.5s"), which is how
agent definitions carry them (sheet §3.2 idle_timeout)."""

from __future__ import annotations

import re

from agyn_common.errors import invalid_argument

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_WHOLE = re.compile(rf"\+?(?:{_PART.pattern})+")
MAX_CHARS = 64


def positive_duration(value: str, field: str) -> str:
    """`value` unchanged when it is a Go duration above zero; INVALID_ARGUMENT on `field` otherwise."""
    if len(value) > MAX_CHARS or not _WHOLE.fullmatch(value):
        raise invalid_argument(field, f"must be a duration such as 5m or 1h30m, got {value[:MAX_CHARS]!r}")
    seconds = sum(float(number) * _UNITS[unit] for number, unit in _PART.findall(value))
    if seconds <= 0:
        raise invalid_argument(field, "must be greater than zero")
    return value
