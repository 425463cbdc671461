"""StreamRunEvents (files-tracing B.9): a run's spans replayed, then every change live.

One core NATS subscription per replica, on the span events Tracing itself publishes after each
upsert (`agyn.events.tracing.span.*`, DESIGN §5), feeds every open stream of the replica,
routed by trace id and workload id. An event only names the span and its revision; the
stream re-reads the row and sends it only when its revision is newer than what the stream
already sent of that span. So the replay and the live phase overlap without a duplicate or a
gap (the stream subscribes before it reads), a late or repeated event sends nothing, and what
is sent is always the stored state. When the bus connection was interrupted, events may have
been missed: every stream then re-reads its whole run, and the revisions tell what changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agyn_common.bus import EVENTS_SUBJECT_PREFIX, Bus
from agyn_common.db import Database
from agyn_common.errors import ServiceError, invalid_argument, resource_exhausted, unavailable
from agyn_common.metrics import Metrics
from agyn_common.validation import parse_uuid
from agynio.api.tracing.v1 import tracing_pb2 as pb
from nats.aio.msg import Msg
from prometheus_client import Counter

from agyn_tracing import store
from agyn_tracing.convert import resource_spans, span_status
from agyn_tracing.events import SOURCE

log = logging.getLogger(__name__)

SPAN_EVENTS = f"{EVENTS_SUBJECT_PREFIX}.{SOURCE}.span.*"
KINDS = {
    "invocation.message": pb.RUN_EVENT_KIND_MESSAGE,
    "llm.call": pb.RUN_EVENT_KIND_LLM_CALL,
    "tool.execution": pb.RUN_EVENT_KIND_TOOL_EXECUTION,
    "summarization": pb.RUN_EVENT_KIND_SUMMARIZATION,
    "injection": pb.RUN_EVENT_KIND_INJECTION,
}
READ_PAGE = 200  # rows per query when a stream reads its whole run
SUMMARY_INTERVAL_SECONDS = 1.0  # summaries after changes are coalesced to one a second
SpanKey = tuple[bytes, bytes]  # (trace_id, span_id)


@dataclass(frozen=True)
class Run:
    """A checked StreamRunEventsRequest."""

    organization_id: str
    trace_id: bytes | None
    workload_id: str | None
    kinds: frozenset[int]  # empty: every kind
    replay: bool
    include_summary: bool

    @classmethod
    def parse(cls, request: pb.StreamRunEventsRequest) -> Run:
        organization = parse_uuid(request.organization_id, "organization_id")
        selector = request.WhichOneof("run")
        trace_id = workload_id = None
        if selector == "trace_id":
            trace_id = store.check_trace_id(request.trace_id)
        elif selector == "workload_id":
            workload_id = str(parse_uuid(request.workload_id, "workload_id"))
        else:
            raise invalid_argument("run", "trace_id or workload_id is required")
        for index, kind in enumerate(request.kinds):
            if kind == pb.RUN_EVENT_KIND_UNSPECIFIED or kind not in pb.RunEventKind.values():
                raise invalid_argument(f"kinds[{index}]", "must be a known kind other than UNSPECIFIED")
        return cls(
            str(organization),
            trace_id,
            workload_id,
            frozenset(request.kinds),
            request.replay,
            request.include_summary,
        )

    @property
    def where(self) -> list[Any]:
        return store.in_run(self.organization_id, self.trace_id, self.workload_id)


class RunStream:
    """One open StreamRunEvents: which spans changed since it last looked, and how it ends."""

    def __init__(self, run: Run, buffer_size: int, overflowed: Counter) -> None:
        self.run = run
        self._buffer_size = buffer_size
        self._overflowed = overflowed
        self.sent: dict[SpanKey, int] = {}  # the revision of each span the client has
        self._changed: dict[SpanKey, None] = {}  # in the order the events came
        self._reread_all = False
        self.replaying = run.replay
        self._wake = asyncio.Event()
        self._failure: ServiceError | None = None

    def changed(self, key: SpanKey, revision: int) -> None:
        if (
            self._failure is not None
            or self._reread_all
            or self.sent.get(key, 0) >= revision
            or key in self._changed
        ):
            return
        if len(self._changed) >= self._buffer_size:
            if self.replaying:
                # The replay goes at the client's pace: what changes meanwhile is not the
                # client's delay, and is caught up by reading the run again after it.
                self._changed.clear()
                self.missed_events()
                return
            self._overflowed.inc()
            self.fail(resource_exhausted("the client fell too far behind the run; reconnect with replay"))
            return
        self._changed[key] = None
        self._wake.set()

    def missed_events(self) -> None:
        self._reread_all = True
        self._wake.set()

    def fail(self, error: ServiceError) -> None:
        if self._failure is None:
            self._failure = error
            self._wake.set()

    def check(self) -> None:
        if self._failure is not None:
            raise self._failure

    async def wait(self, timeout: float) -> None:
        """Until a change, a failure, or `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self.check()

    def take(self) -> tuple[list[SpanKey], bool]:
        """The spans that changed, and whether the whole run must be read again."""
        changed, reread_all = list(self._changed), self._reread_all
        self._changed, self._reread_all = {}, False
        self._wake.clear()
        return changed, reread_all


class RunEventHub:
    """Every open stream of this replica, and the subscription that feeds them."""

    def __init__(self, bus: Bus, metrics: Metrics, buffer_size: int) -> None:
        self._buffer_size = buffer_size
        self._by_trace: dict[bytes, set[RunStream]] = {}
        self._by_workload: dict[str, set[RunStream]] = {}
        self._closed: str | None = None
        self._overflowed = metrics.counter(
            "agyn_tracing_run_streams_overflowed_total",
            "Run event streams ended because their client fell too far behind (it reconnects).",
        )
        metrics.reading(
            "agyn_tracing_run_streams_open",
            "StreamRunEvents calls open on this replica.",
            lambda: float(len(self)),
        )
        bus.subscribe(SPAN_EVENTS, self._on_event)
        bus.on_gap(self._on_gap)

    def _index(self, run: Run) -> tuple[dict[Any, set[RunStream]], Any]:
        if run.trace_id is not None:
            return self._by_trace, run.trace_id
        return self._by_workload, run.workload_id

    def open(self, run: Run) -> RunStream:
        if self._closed is not None:
            raise unavailable(self._closed)
        stream = RunStream(run, self._buffer_size, self._overflowed)
        index, key = self._index(run)
        index.setdefault(key, set()).add(stream)
        return stream

    def close_stream(self, stream: RunStream) -> None:
        index, key = self._index(stream.run)
        streams = index.get(key)
        if streams is not None:
            streams.discard(stream)
            if not streams:
                del index[key]

    def _all(self) -> list[RunStream]:
        return [
            stream for index in (self._by_trace, self._by_workload) for s in index.values() for stream in s
        ]

    def __len__(self) -> int:
        return len(self._all())

    async def _on_event(self, message: Msg) -> None:
        try:
            data = json.loads(message.data)["data"]
            key = (bytes.fromhex(data["trace_id"]), bytes.fromhex(data["span_id"]))
            organization, workload, revision = (
                data["organization_id"],
                data["workload_id"],
                int(data["revision"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            log.warning("skipping an unreadable span event on %s: %r", message.subject, error)
            return
        for stream in self._by_trace.get(key[0], set()) | self._by_workload.get(workload, set()):
            if stream.run.organization_id == organization:
                stream.changed(key, revision)

    def _on_gap(self) -> None:
        for stream in self._all():
            stream.missed_events()

    def close(self, reason: str) -> None:
        """The server stops taking calls: end every stream, and any opened later, UNAVAILABLE."""
        self._closed = reason
        for stream in self._all():
            stream.fail(unavailable(reason))


def kind_of(name: str) -> pb.RunEventKind:
    return KINDS.get(name, pb.RUN_EVENT_KIND_OTHER)


class _Events:
    """What a stream sends of rows: numbered, filtered by kind, each span revision once."""

    def __init__(self, stream: RunStream) -> None:
        self._stream = stream
        self._sequence = 0

    def of(self, row: Any, *, replayed: bool) -> tuple[bool, pb.StreamRunEventsResponse | None]:
        """Whether the row is news to the client, and the event to send for it (None when
        its kind is filtered out)."""
        key = (row.trace_id, row.span_id)
        known = self._stream.sent.get(key)
        if known is not None and known >= row.revision:
            return False, None
        self._stream.sent[key] = row.revision
        kind = kind_of(row.name)
        kinds = self._stream.run.kinds
        if kinds and kind not in kinds:
            return True, None
        if replayed:
            action = pb.RUN_EVENT_ACTION_REPLAYED
        elif known is None and row.revision == 1:
            action = pb.RUN_EVENT_ACTION_CREATED
        else:
            action = pb.RUN_EVENT_ACTION_UPDATED
        self._sequence += 1
        event = pb.RunEvent(
            sequence=self._sequence,
            action=action,
            kind=kind,
            status=span_status(row.end_time_unix_nano, row.status_code),
            revision=row.revision,
            resource_spans=resource_spans([row])[0],
        )
        return True, pb.StreamRunEventsResponse(event=event)


async def _whole_run(db: Database, run: Run) -> AsyncIterator[Any]:
    """The run's spans in replay order, a page per query."""
    after: store.RunKey | None = None
    while True:
        async with db.read() as connection:
            rows = await store.run_page(connection, run.where, after, READ_PAGE)
        for row in rows:
            yield row
        if len(rows) < READ_PAGE:
            return
        last = rows[-1]
        after = (last.start_time_unix_nano, last.trace_id, last.span_id)


async def _changed_rows(db: Database, run: Run, keys: Sequence[SpanKey]) -> list[Any]:
    """The current rows of `keys`, in the order their events came."""
    found: dict[SpanKey, Any] = {}
    for start in range(0, len(keys), READ_PAGE):
        async with db.read() as connection:
            rows = await store.run_spans_by_key(connection, run.where, keys[start : start + READ_PAGE])
        found.update(((row.trace_id, row.span_id), row) for row in rows)
    return [found[key] for key in keys if key in found]


async def _summary(db: Database, run: Run) -> pb.StreamRunEventsResponse:
    async with db.read() as connection:
        return pb.StreamRunEventsResponse(summary=await store.run_summary(connection, run.where))


def _heartbeat() -> pb.StreamRunEventsResponse:
    response = pb.StreamRunEventsResponse()
    response.heartbeat.server_time.FromDatetime(datetime.now(UTC))
    return response


async def stream_run_events(
    db: Database, hub: RunEventHub, run: Run, heartbeat_seconds: float
) -> AsyncIterator[pb.StreamRunEventsResponse]:
    stream = hub.open(run)  # before anything is read: no change can fall between the two
    try:
        events = _Events(stream)
        clock = asyncio.get_running_loop().time
        if run.replay:
            replayed = 0
            async for row in _whole_run(db, run):
                stream.check()
                _, response = events.of(row, replayed=True)
                if response is not None:
                    replayed += 1
                    yield response
            stream.replaying = False
            yield pb.StreamRunEventsResponse(replay_complete=pb.ReplayComplete(replayed_spans=replayed))
            if run.include_summary:
                yield await _summary(db, run)
        last_sent = last_summary = clock()
        summary_due: float | None = None
        while True:
            deadline = last_sent + heartbeat_seconds
            if summary_due is not None:
                deadline = min(deadline, summary_due)
            await stream.wait(max(0.0, deadline - clock()))
            keys, reread_all = stream.take()
            rows = (
                [row async for row in _whole_run(db, run)]
                if reread_all
                else await _changed_rows(db, run, keys)
            )
            for row in rows:
                news, response = events.of(row, replayed=False)
                if news and run.include_summary and summary_due is None:
                    summary_due = max(clock(), last_summary + SUMMARY_INTERVAL_SECONDS)
                if response is not None:
                    stream.check()
                    yield response
                    last_sent = clock()
            if summary_due is not None and clock() >= summary_due:
                yield await _summary(db, run)
                last_sent = last_summary = clock()
                summary_due = None
            if clock() - last_sent >= heartbeat_seconds:
                yield _heartbeat()
                last_sent = clock()
    finally:
        hub.close_stream(stream)
