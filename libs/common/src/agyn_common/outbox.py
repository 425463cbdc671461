"""The transactional outbox and its relay to JetStream (DESIGN §5).

A state change and the events it causes commit in one transaction: `Outbox.emit` inserts
a row with the change (or `QUEUE_ROWS` is part of the change's own statement). After the
commit the relay wakes, takes a batch of rows out, publishes them in order with
`Nats-Msg-Id` = row id (JetStream drops a duplicate inside the stream's window), and commits
once every one is acknowledged. While NATS is away the rows stay and the relay retries with
backoff, so no event is lost and none is sent for a rolled-back change.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from agynio.api.notifications.v1 import notifications_pb2
from google.protobuf import struct_pb2
from opentelemetry import propagate
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_common.bus import EVENTS_SUBJECT_PREFIX, Bus, checked_subject
from agyn_common.db import Database, after_commit
from agyn_common.metrics import Metrics
from agyn_common.query import Query
from agyn_common.rooms import room_messages

log = logging.getLogger(__name__)

OUTBOX_TABLE = "outbox"


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    """The outbox table on a service's own metadata (DESIGN §4), made once per metadata."""
    if OUTBOX_TABLE in metadata.tables:
        return metadata.tables[OUTBOX_TABLE]
    return sa.Table(
        OUTBOX_TABLE,
        metadata,
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False, unique=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("headers", postgresql.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def create_outbox_table(op: Any) -> None:
    """For a service's first migration. Later changes to the table need their own revision."""
    outbox_table(sa.MetaData()).create(op.get_bind())


_QUEUED = outbox_table(sa.MetaData())
_queued = (
    sa.func.unnest(
        sa.bindparam("outbox_ids", type_=postgresql.ARRAY(postgresql.UUID(as_uuid=True))),
        sa.bindparam("outbox_subjects", type_=postgresql.ARRAY(sa.Text)),
        sa.bindparam("outbox_payloads", type_=postgresql.ARRAY(sa.LargeBinary)),
    )
    .table_valued("id", "subject", "payload")
    .render_derived(name="queued")
)
# Rows queued together (an envelope's copies, one per room) in one statement, with the
# parameters `Outbox.rooms_rows` gives. A service may make it a CTE of its own statement
# (`QUEUE_ROWS.cte()`), so that its change and its events are written in one round trip.
QUEUE_ROWS = _QUEUED.insert().from_select(
    ["id", "subject", "payload", "headers"],
    sa.select(
        _queued.c.id,
        _queued.c.subject,
        _queued.c.payload,
        sa.bindparam("outbox_headers", type_=postgresql.JSONB),
    ),
)
# In binary: a bulk write's thousand ids and payloads cost little to send that way.
_QUEUE_ROWS = Query(QUEUE_ROWS, binary=True)

# The relay's batch, taken out of the queue in one statement: the oldest rows no other replica
# is relaying. They are gone only when the pass commits, once JetStream has acknowledged every
# one; otherwise the rollback puts them all back, and JetStream drops the copies it already
# has (by Nats-Msg-Id) when they are published again.
_TAKE_ROWS = Query(
    _QUEUED.delete()
    .where(
        _QUEUED.c.id.in_(
            sa.select(_QUEUED.c.id)
            .order_by(_QUEUED.c.seq)
            .limit(sa.bindparam("limit", type_=sa.Integer))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .returning(
        _QUEUED.c.seq,
        _QUEUED.c.id,
        _QUEUED.c.subject,
        _QUEUED.c.payload,
        _QUEUED.c.headers,
        _QUEUED.c.created_at,
    )
)
_BACKLOG = Query(
    sa.select(
        sa.func.count().label("pending"),
        sa.cast(
            sa.func.extract("epoch", sa.func.now() - sa.func.min(_QUEUED.c.created_at)) * 1000, sa.BigInteger
        ).label("oldest_age_ms"),
    ).select_from(_QUEUED)
)
# How often the backlog is measured, when the service has metrics.
BACKLOG_SECONDS = 5.0


class _OutboxMeasures:
    def __init__(self, metrics: Metrics) -> None:
        self.committed = metrics.counter(
            "agyn_events_committed_total",
            "Domain events committed, by type: what this service wrote.",
            ["event"],
        )
        self.pending = metrics.gauge("agyn_outbox_pending_rows", "Outbox rows not yet published.")
        self.oldest_age = metrics.gauge(
            "agyn_outbox_oldest_age_seconds", "Age of the oldest outbox row not yet published (0: none)."
        )
        self.latency = metrics.histogram(
            "agyn_outbox_publish_latency_seconds",
            "From an event's transaction to its acknowledgement by JetStream.",
        )
        self.failures = metrics.counter(
            "agyn_outbox_publish_failures_total",
            "Publishes JetStream did not acknowledge (the rows stay queued).",
        )


def event_subject(service: str, event: str) -> str:
    return f"{EVENTS_SUBJECT_PREFIX}.{service}.{event}"


@dataclass(frozen=True)
class RoomEvent:
    """A notification envelope for rooms (DESIGN §5)."""

    source: str
    event: str
    rooms: Sequence[str]
    payload: Mapping[str, str]


@dataclass(frozen=True)
class DomainEvent:
    """A domain event on `agyn.events.<service>.<event>` with a JSON body."""

    service: str
    event: str
    data: Mapping[str, Any]


Copy = tuple[uuid.UUID, str, bytes]  # message id, subject, payload


def _envelope_copies(room_event: RoomEvent, at: datetime | None) -> list[Copy]:
    """The envelope once per room subject; none without rooms."""
    if not room_event.rooms:
        return []
    data = struct_pb2.Struct()
    data.update(room_event.payload)
    envelope = notifications_pb2.NotificationEnvelope(
        id=str(uuid.uuid4()),
        source=room_event.source,
        event=room_event.event,
        rooms=list(room_event.rooms),
        payload=data,
    )
    envelope.ts.FromDatetime(at or datetime.now(UTC))
    return [(copy.message_id, copy.subject, copy.body) for copy in room_messages(envelope)]


def _event_copy(domain_event: DomainEvent) -> Copy:
    event_id = uuid.uuid4()
    body = {
        "id": str(event_id),
        "type": f"{domain_event.service}.{domain_event.event}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": dict(domain_event.data),
    }
    subject = event_subject(domain_event.service, domain_event.event)
    return event_id, subject, json.dumps(body, separators=(",", ":")).encode()


class Outbox:
    def __init__(
        self, db: Database, metadata: sa.MetaData, *, batch_size: int = 200, poll_seconds: float = 2.0
    ) -> None:
        self._db = db
        outbox_table(metadata)  # part of the service's schema (its migrations create it)
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._stopped = False
        self._measures: _OutboxMeasures | None = None  # set by `measure_with`

    def measure_with(self, metrics: Metrics) -> None:
        """Report the outbox in `metrics`: the domain events committed, the backlog (kept up to
        date by `watch_backlog`), how long events take to reach the bus, failed publishes."""
        self._measures = _OutboxMeasures(metrics)

    async def watch_backlog(self, seconds: float = BACKLOG_SECONDS) -> None:
        """Measure the rows not yet published, and the age of the oldest, every `seconds`."""
        while not self._stopped and self._measures is not None:
            try:
                async with self._db.read() as connection:
                    pending, oldest_ms = await _BACKLOG.first(connection)
            except Exception as error:  # the database is away: the last figures stay
                log.debug("outbox backlog not measured: %s", error)
            else:
                self._measures.pending.set(pending)
                self._measures.oldest_age.set((oldest_ms or 0) / 1000)
            await asyncio.sleep(seconds)  # the service's stop cancels it

    async def emit(
        self,
        connection: AsyncConnection,
        subject: str,
        payload: bytes,
        headers: Mapping[str, str] | None = None,
        message_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """Queue one message in the caller's transaction; published once it commits.

        `message_id` becomes the `Nats-Msg-Id` JetStream deduplicates on. ValueError for a
        subject NATS would refuse: a row the relay can never publish is never written.
        """
        message_id = message_id or uuid.uuid4()
        await _QUEUE_ROWS.run(connection, **self._rows(connection, [(message_id, subject, payload)], headers))
        return message_id

    def _rows(
        self,
        connection: AsyncConnection,
        rows: list[Copy],
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The parameters of `QUEUE_ROWS` for (id, subject, payload) rows that share `headers`;
        the relay wakes once `connection`'s transaction commits."""
        for _, subject, _ in rows:
            checked_subject(subject)
        carried = dict(headers or {})
        propagate.inject(carried)  # traceparent of the emitting span, when there is one
        ids, subjects, payloads = (
            (list(column) for column in zip(*rows, strict=True)) if rows else ([], [], [])
        )
        after_commit(connection, self._wake.set)
        return {
            "outbox_ids": ids,
            "outbox_subjects": subjects,
            "outbox_payloads": payloads,
            "outbox_headers": carried,
        }

    async def emit_event(
        self, connection: AsyncConnection, service: str, event: str, data: Mapping[str, Any]
    ) -> uuid.UUID:
        """A domain event on `agyn.events.<service>.<event>` with a JSON body."""
        event_id, subject, body = _event_copy(DomainEvent(service, event, data))
        emitted = await self.emit(connection, subject, body, message_id=event_id)
        self._count(connection, [f"{service}.{event}"])
        return emitted

    def _count(self, connection: AsyncConnection, types: Iterable[str]) -> None:
        """Count the domain events of these types once `connection`'s transaction commits."""
        if self._measures is None:
            return
        counters = [self._measures.committed.labels(kind) for kind in types]

        def count() -> None:
            for counter in counters:
                counter.inc()

        after_commit(connection, count)

    async def emit_many(
        self,
        connection: AsyncConnection,
        *,
        room_events: Iterable[RoomEvent] = (),
        domain_events: Iterable[DomainEvent] = (),
    ) -> None:
        """Notifications and domain events of a batch write, queued in one statement."""
        domain_events = list(domain_events)
        copies = [copy for room_event in room_events for copy in _envelope_copies(room_event, None)]
        copies += [_event_copy(domain_event) for domain_event in domain_events]
        if copies:
            await _QUEUE_ROWS.run(connection, **self._rows(connection, copies))
            self._count(connection, (f"{e.service}.{e.event}" for e in domain_events))

    async def emit_to_rooms(
        self,
        connection: AsyncConnection,
        *,
        source: str,
        event: str,
        rooms: Iterable[str],
        payload: Mapping[str, str],
        at: datetime | None = None,
    ) -> None:
        """A notification envelope for `rooms`, queued once per room on the room's subject
        (DESIGN §5); stamped `at`, or now."""
        rows = self.rooms_rows(connection, source=source, event=event, rooms=rooms, payload=payload, at=at)
        if rows["outbox_ids"]:
            await _QUEUE_ROWS.run(connection, **rows)

    def rooms_rows(
        self,
        connection: AsyncConnection,
        *,
        source: str,
        event: str,
        rooms: Iterable[str],
        payload: Mapping[str, str],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """What `emit_to_rooms` queues, as the parameters of `QUEUE_ROWS` for a statement of
        the caller's own that includes it; no rooms, no rows."""
        return self._rows(connection, _envelope_copies(RoomEvent(source, event, list(rooms), payload), at))

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """End `run` at its next wait."""
        self._stopped = True
        self._wake.set()

    async def _wait_for_wake(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    async def run(self, bus: Bus) -> None:
        """Relay until `stop`."""
        delay = 0.1
        while not self._stopped:
            # Cleared before the batch is read: a commit that lands while this pass publishes
            # wakes the next one at once (cleared after the pass, its wake-up was lost and its
            # rows waited for the poll).
            self._wake.clear()
            try:
                relayed = await self.relay_once(bus)
            except Exception as error:  # NATS away or DB hiccup: keep the rows, retry
                log.warning("outbox relay failed, retrying in %.1fs: %s", delay, error)
                self._wake.clear()  # the backoff is cut short by a new commit, not an old one
                await self._wait_for_wake(delay)
                delay = min(delay * 2, 5.0)
                continue
            delay = 0.1
            if relayed == self._batch_size:
                continue  # more may be waiting
            # Also poll: rows may come from another replica.
            await self._wait_for_wake(self._poll_seconds)

    async def relay_once(self, bus: Bus) -> int:
        """Publish one batch of committed rows; return how many (all were acknowledged)."""
        if not bus.connected:
            raise ConnectionError("nats not connected")
        js = bus.jetstream
        async with self._db.transaction() as connection:
            rows = sorted(await _TAKE_ROWS.all(connection, limit=self._batch_size))  # by seq
            if not rows:
                return 0
            # Pipelined: every message is sent before any acknowledgement is awaited.
            futures = [
                await js.publish_async(
                    row.subject, row.payload, headers={**row.headers, "Nats-Msg-Id": str(row.id)}
                )
                for row in rows
            ]
            async with asyncio.timeout(5):
                done = await asyncio.gather(*futures, return_exceptions=True)
            failed = sum(isinstance(result, BaseException) for result in done)
            if failed:  # rolls the batch back: every row stays queued, in its order
                if self._measures is not None:
                    self._measures.failures.inc(failed)
                raise ConnectionError(f"{failed} of {len(rows)} publishes were not acknowledged")
        if self._measures is not None:
            published = datetime.now(UTC)
            for row in rows:
                self._measures.latency.observe((published - row.created_at).total_seconds())
        return len(rows)
