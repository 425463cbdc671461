"""The NATS JetStream connection of a service.

Connecting never blocks start-up: a service whose bus is away still serves (its events
wait in the outbox), reports NOT_SERVING through health, and connects when NATS appears.
A connection NATS closes for good (the client gives up after a protocol error) is replaced
by a new one, with the streams, subscriptions and consumers declared again.

A message is handled in the trace of the call that published it: the outbox puts the
`traceparent` in the NATS headers, and `consumer_span` continues it (DESIGN §5).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, StreamConfig
from nats.js.errors import NotFoundError
from opentelemetry import propagate, trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer, TracerProvider

from agyn_common.metrics import Metrics

log = logging.getLogger(__name__)

EVENTS_STREAM = "AGYN_EVENTS"
EVENTS_SUBJECT_PREFIX = "agyn.events"
DRAIN_TIMEOUT_SECONDS = 5.0
ACK_WAIT_SECONDS = 30.0  # a consumer handler that takes longer sees its message again
RETRY_DELAY_SECONDS = 1.0  # before a message whose handler failed is delivered again

# NATS closes the connection of a client whose protocol line is longer than max_control_line
# (4096 bytes by default); a subject shares its line with a reply inbox and two sizes.
MAX_SUBJECT_BYTES = 1024

MessageHandler = Callable[[Msg], Awaitable[None]]


def checked_subject(subject: str) -> str:
    """`subject` if NATS can take it, else ValueError: a subject that is too long, or holds
    whitespace (which splits the protocol line), must never reach the wire."""
    if not subject or len(subject.encode()) > MAX_SUBJECT_BYTES:
        raise ValueError(f"a NATS subject is 1..{MAX_SUBJECT_BYTES} bytes, not {len(subject.encode())}")
    if any(character.isspace() or not character.isprintable() for character in subject):
        raise ValueError(f"a NATS subject has no whitespace or control characters: {subject[:64]!r}")
    return subject


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    max_age_seconds: float
    duplicate_window_seconds: float = 600.0
    # None: the server's default, which NATS 2.15 sets to 1,000 consumers per stream.
    max_consumers: int | None = None

    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            subjects=list(self.subjects),
            max_age=self.max_age_seconds,
            duplicate_window=self.duplicate_window_seconds,
            max_consumers=self.max_consumers,
        )


# Domain events for other services (cache invalidation, run events): kept a week; the
# duplicate window covers a relay that republishes after losing an acknowledgement.
EVENTS = StreamSpec(EVENTS_STREAM, (f"{EVENTS_SUBJECT_PREFIX}.>",), max_age_seconds=7 * 24 * 3600)


def event_ids(message: Msg, *names: str) -> dict[str, uuid.UUID | None]:
    """The ids a domain event's `data` carries under `names` (absent or empty: None).
    ValueError when the message is not such an event."""
    try:
        data = json.loads(message.data)["data"]
        return {name: uuid.UUID(str(data[name])) if data.get(name) else None for name in names}
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a domain event: {error}") from error


def consumer_span(
    tracer: Tracer, name: str, message: Msg, links: Sequence[Link] = ()
) -> AbstractContextManager[Span]:
    """A CONSUMER span around handling `message`, continuing the publisher's trace from its
    headers (a new trace when it carries none). `name` is what was subscribed to, not the
    subject, so that span names stay few when subjects carry ids. A message whose trace is
    not sampled gets no span: it is handled in the publisher's context."""
    parent = propagate.extract(message.headers or {})
    published_in = trace.get_current_span(parent)
    if published_in.get_span_context().is_valid and not published_in.get_span_context().trace_flags.sampled:
        # The publisher's trace is not recorded, so neither is this span: the message is
        # handled in the publisher's trace context, without a span of its own (making one
        # was a third of the CPU of a Subscribe delivery).
        return trace.use_span(published_in)
    return tracer.start_as_current_span(
        f"process {name}",
        kind=SpanKind.CONSUMER,
        context=parent,
        links=links,
        attributes={
            "messaging.system": "nats",
            "messaging.operation.type": "process",
            "messaging.destination.name": message.subject,
        },
    )


class Bus:
    def __init__(
        self,
        url: str,
        *,
        name: str,
        streams: tuple[StreamSpec, ...] = (),
        tracer_provider: TracerProvider | None = None,  # None: the process's
    ) -> None:
        self._url = url
        self._name = name
        self._streams = streams
        self.tracer = trace.get_tracer("agyn_common.bus", tracer_provider=tracer_provider)
        self._client: Client | None = None
        self._js: JetStreamContext | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._interests: list[tuple[str, MessageHandler]] = []
        self._consumers: list[tuple[str, str, MessageHandler]] = []
        self._gap_callbacks: list[Callable[[], None]] = []
        self._disconnect_callbacks: list[Callable[[], None]] = []
        self._closing = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect_until_ready(), name="bus-connect")

    async def _connect_until_ready(self) -> None:
        delay = 0.1
        while True:
            client = Client()

            async def closed(client: Client = client) -> None:
                await self._closed(client)

            try:
                await client.connect(
                    self._url,
                    name=self._name,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    # Annotated int by nats-py, but only ever slept on: half a second is fine.
                    reconnect_time_wait=0.5,  # type: ignore[arg-type]
                    connect_timeout=2,
                    disconnected_cb=self._disconnected,
                    reconnected_cb=self._reconnected,
                    closed_cb=closed,
                )
                js = client.jetstream(timeout=5)
                for spec in self._streams:
                    await ensure_stream(js, spec)
                for subject, handler in self._interests:
                    await client.subscribe(subject, cb=self._traced(subject, handler))
                for durable, subject, handler in self._consumers:
                    await js.subscribe(
                        subject,
                        queue=durable,  # the replicas of a service share one consumer
                        durable=durable,
                        stream=EVENTS_STREAM,
                        cb=self._traced(subject, _acknowledging(handler)),
                        manual_ack=True,
                        config=ConsumerConfig(ack_wait=ACK_WAIT_SECONDS, max_deliver=-1),
                    )
            except Exception as error:  # any connect or declare failure: retry, never crash
                log.warning("nats not reachable yet: %s", error)
                await client.close()  # half set up: its subscriptions must not linger
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._client, self._js = client, js
            self._ready.set()
            self._signal_gap()  # anything cached before the first connection went unwatched
            log.info("connected to nats")
            return

    async def _disconnected(self) -> None:
        for callback in self._disconnect_callbacks:
            callback()

    async def _reconnected(self) -> None:
        # Core subscriptions are restored by the client, but what was published meanwhile is gone.
        self._signal_gap()

    async def _closed(self, client: Client) -> None:
        """The client gave up its connection: after a protocol error NATS answered with -ERR
        and the client does not reconnect by itself. Connect anew, unless we are closing."""
        if self._closing or client is not self._client:
            return  # our own close, or a connection that never finished setting up
        log.warning("nats closed the connection (%s); connecting again", client.last_error)
        self._signal_gap()  # its subscriptions are gone with it
        self._task = asyncio.create_task(self._connect_until_ready(), name="bus-connect")

    def _traced(self, subject: str, handler: MessageHandler) -> MessageHandler:
        async def handle(message: Msg) -> None:
            with consumer_span(self.tracer, subject, message):
                await handler(message)

        return handle

    def _signal_gap(self) -> None:
        for callback in self._gap_callbacks:
            callback()

    def subscribe(self, subject: str, handler: MessageHandler) -> None:
        """Follow `subject` live (core NATS) from the first connection on, across reconnects.

        Call it while the service is being set up, before the bus has connected. Live delivery
        only: a consumer that must not miss messages pairs this with `on_gap`.
        """
        if self._client is not None:
            raise RuntimeError("subscribe before the bus connects (while registering the service)")
        self._interests.append((subject, handler))

    def consume(self, durable: str, subject: str, handler: MessageHandler) -> None:
        """Handle every event on `subject` (in the events stream) at least once, across restarts.

        A durable JetStream consumer named `durable`: what is published while the service is
        down is delivered when it is back. A message is acknowledged once `handler` returns
        and delivered again if it raises, so handlers must be idempotent. Call it while the
        service is being set up, like `subscribe`.
        """
        if self._client is not None:
            raise RuntimeError("consume before the bus connects (while registering the service)")
        self._consumers.append((durable, subject, handler))

    def on_gap(self, callback: Callable[[], None]) -> None:
        """Call `callback` whenever live messages may have been missed (first connect, reconnect)."""
        self._gap_callbacks.append(callback)

    def on_disconnect(self, callback: Callable[[], None]) -> None:
        """Call `callback` as soon as the connection drops: messages go unheard from then on.
        What was kept on the strength of them is stale before `on_gap` says so, since the
        client reports itself connected again a round trip before it signals the gap."""
        self._disconnect_callbacks.append(callback)

    def measure_with(self, metrics: Metrics) -> None:
        """Report the connection's state in `metrics` (`agyn_bus_connected`, read at each scrape)."""
        metrics.reading(
            "agyn_bus_connected", "1 while the NATS connection is up.", lambda: float(self.connected)
        )

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def wait_ready(self, timeout: float | None = None) -> None:
        async with asyncio.timeout(timeout):
            await self._ready.wait()

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError("bus not connected yet")
        return self._client

    @property
    def jetstream(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError("bus not connected yet")
        return self._js

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None and not self._client.is_closed:
            try:
                async with asyncio.timeout(DRAIN_TIMEOUT_SECONDS):
                    await self._client.drain()
            except (NatsError, TimeoutError):
                # NATS is down or reconnecting: nothing is left to flush (events wait in the
                # outbox), so just let the connection go.
                await self._client.close()


def _acknowledging(handler: MessageHandler) -> MessageHandler:
    async def deliver(message: Msg) -> None:
        try:
            await handler(message)
        except Exception as error:
            log.exception("handling %s failed; it will be delivered again", message.subject)
            span = trace.get_current_span()
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, "handler failed"))
            await message.nak(delay=RETRY_DELAY_SECONDS)
            return
        await message.ack()

    return deliver


async def ensure_stream(js: JetStreamContext, spec: StreamSpec) -> None:
    """Create the stream, or bring an existing one to this configuration (idempotent)."""
    try:
        await js.stream_info(spec.name)
    except NotFoundError:
        await js.add_stream(spec.config())
    else:
        await js.update_stream(spec.config())
