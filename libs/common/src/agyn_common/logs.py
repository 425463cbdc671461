"""Logs on stderr, one record per line, with the active trace id when there is one.

JSON (one object per line) for collectors: when stderr is not a terminal, or with
`LOG_FORMAT=json`. Plain text for a person at a terminal: when stderr is one, or with
`LOG_FORMAT=text`.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal, TextIO

from opentelemetry import trace

LogFormat = Literal["auto", "json", "text"]


def _trace_ids() -> tuple[str, str] | None:
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ids = _trace_ids()
        if ids is not None:
            entry["trace_id"], entry["span_id"] = ids
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time level service logger: message trace_id=...`, the traceback on the lines after."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        # Local time: a person reads it against their own clock.
        time = f"{datetime.fromtimestamp(record.created):%Y-%m-%d %H:%M:%S}.{int(record.msecs):03d}"
        line = f"{time} {record.levelname:<7} {self._service} {record.name}: {record.getMessage()}"
        ids = _trace_ids()
        if ids is not None:
            line += f" trace_id={ids[0]}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(
    service: str, level: str = "INFO", log_format: LogFormat = "auto", stream: TextIO | None = None
) -> None:
    """Log to `stream` (stderr); `auto` is text on a terminal, JSON anywhere else."""
    stream = sys.stderr if stream is None else stream
    text = log_format == "text" or (log_format == "auto" and stream.isatty())
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter(service) if text else JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
