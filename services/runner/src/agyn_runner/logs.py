"""A container's output, kept in a file and followed as it grows.

The process's stdout and stderr share one pipe, so their bytes land in the order the process
wrote them. Each line read is one record `{"t": <ns since the epoch>, "d": <text>}` (JSON
lines; bytes that are not UTF-8 round-trip through surrogate escapes); a partial line is a
record of its own, so a follower sees output without waiting for the newline.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from agyn_runner.stopping import DaemonStopping

READ_BYTES = 256 * 2**10
# The most bytes one record read back carries: lines that arrived together (one timestamp)
# go out together, up to this much, instead of a message a line.
CHUNK_BYTES = 64 * 2**10


@dataclass(frozen=True)
class Record:
    ts_ns: int
    data: bytes


def _encode(ts_ns: int, data: bytes) -> bytes:
    return json.dumps({"t": ts_ns, "d": data.decode("utf-8", "surrogateescape")}).encode() + b"\n"


def _decode(line: bytes) -> Record:
    fields = json.loads(line)
    return Record(int(fields["t"]), str(fields["d"]).encode("utf-8", "surrogateescape"))


def _joined(records: list[Record]) -> list[Record]:
    """Consecutive records of the same instant as one (at most CHUNK_BYTES): a process's lines
    read from its pipe at once share their timestamp, so nothing is lost by joining them."""
    joined: list[Record] = []
    for record in records:
        last = joined[-1] if joined else None
        if (
            last is not None
            and last.ts_ns == record.ts_ns
            and len(last.data) + len(record.data) <= CHUNK_BYTES
        ):
            joined[-1] = Record(last.ts_ns, last.data + record.data)
        else:
            joined.append(record)
    return joined


def _read_from(path: Path, offset: int, limit: int | None) -> tuple[list[Record], int]:
    """Complete records from `offset`, and the offset after the last one."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read() if limit is None else handle.read(limit)
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1  # a record being written is read next time
    return [_decode(line) for line in data[:end].splitlines()], offset + end


class ContainerLog:
    """Written by the daemon while the process runs; `closed` once it has ended."""

    def __init__(self, path: Path, closed: bool) -> None:
        self.path = path
        self.closed = closed
        self._handle: IO[bytes] | None = None
        self._changed = asyncio.Event()

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("ab")

    def append(self, data: bytes) -> None:
        # Small appends to a local file, flushed at once: followers read from the file.
        assert self._handle is not None, "not open"
        now = time.time_ns()
        self._handle.write(b"".join(_encode(now, line) for line in data.splitlines(keepends=True)))
        self._handle.flush()
        self._wake()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def read(
        self, tail_lines: int, since_ns: int, follow: bool, stopping: asyncio.Event
    ) -> AsyncIterator[Record]:
        """The records at or after `since_ns`, the last `tail_lines` of them (0: all); with
        `follow`, then every new one until the process has ended and its last bytes are read."""
        records, offset = await asyncio.to_thread(_read_from, self.path, 0, None)
        selected = [record for record in records if record.ts_ns >= since_ns]
        for record in _joined(selected[-tail_lines:] if tail_lines else selected):
            yield record
        while follow:
            changed, closed = self._changed, self.closed  # before the read: no wake-up is missed
            records, offset = await asyncio.to_thread(_read_from, self.path, offset, READ_BYTES)
            for record in _joined(records):
                yield record
            if records:
                continue
            if closed:
                return
            waits = {asyncio.ensure_future(changed.wait()), asyncio.ensure_future(stopping.wait())}
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiting in waits:
                    waiting.cancel()
            if stopping.is_set():
                raise DaemonStopping
