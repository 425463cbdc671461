"""The bus failing under the platform, each service in its own process (issue 15).

- NATS killed (SIGKILL) for ten seconds under steady SendMessage traffic: every message is
  stored, Threads' outbox relays what piled up once NATS is back, and a client resuming its
  Subscribe with its last cursor gets every envelope once, in order, however many piled up.
- NATS closing a service's connection for good (as an over-long room once made it do): the
  service connects anew by itself and serves Subscribe again, without a restart.

The timings of each scenario are printed (`pytest -s` shows them).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from agyn_inprocess.platform_client import Client, as_user
from agyn_testkit.harness import wait_for_health, wait_until
from agynio.api.threads.v1 import threads_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

pytestmark = pytest.mark.local_platform

SEND_RATE_PER_SECOND = 20
OUTAGE_SECONDS = 10.0
STREAM_BUFFER_SIZE = 64  # Notifications' default: the backlog must exceed it
SERVING = health_pb2.HealthCheckResponse.SERVING


def report(scenario: str, **timings: float | int) -> None:
    shown = ", ".join(
        f"{name} {value:.2f}s" if isinstance(value, float) else f"{name} {value}"
        for name, value in timings.items()
    )
    print(f"\n[{scenario}] {shown}")


async def stored_messages(client: Client, reader: str, thread_id: str) -> list[str]:
    """Every message of the thread, oldest first, as Threads keeps them."""
    ids: list[str] = []
    token = ""
    while True:
        page = await client.threads.GetMessages(
            threads_pb2.GetMessagesRequest(
                thread_id=thread_id,
                page_size=100,
                page_token=token,
                order=threads_pb2.MESSAGE_ORDER_OLDEST_FIRST,
            ),
            metadata=as_user(reader),
        )
        ids += [message.id for message in page.messages]
        token = page.next_page_token
        if not token:
            return ids


async def follow(client: Client, identity: str, cursor: str, received: list[str], ends: list[str]) -> None:
    """A client holding a stream: whenever it ends (UNAVAILABLE), it resumes after the last
    envelope it got, as often as it takes."""
    while True:
        try:
            stream = await client.subscribe(identity, resume_after=cursor)
            async for reply in stream:
                received.append(reply.envelope.payload["message_id"])
                cursor = reply.cursor
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE:  # only the bus may end the stream
                raise
            ends.append(error.details() or "")
            await asyncio.sleep(0.2)


async def test_nats_killed_under_traffic_loses_nothing_and_resuming_clients_get_every_envelope_once(
    processes, nats
):
    client = Client(processes)
    owner, friend = await client.user("olga"), await client.user("fred")
    thread_id = await client.thread_between(owner, friend)
    stream = await client.subscribe(friend)
    first = await client.send(owner, thread_id, "before the traffic")
    async with asyncio.timeout(10):
        start = await stream.read()
    assert start.envelope.payload["message_id"] == first
    stream.cancel()

    sent: list[str] = []
    sending = True

    async def traffic() -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while sending:
            sent.append(await client.send(owner, thread_id, f"message {len(sent)}"))
            due += 1 / SEND_RATE_PER_SECOND
            await asyncio.sleep(max(0.0, due - loop.time()))

    received: list[str] = []
    ends: list[str] = []
    follower = asyncio.create_task(follow(client, friend, start.cursor, received, ends))
    sender = asyncio.create_task(traffic())
    await asyncio.sleep(2)  # steady traffic, delivered live
    await wait_until(lambda: len(received) >= 20)

    nats.kill()
    killed = time.monotonic()
    sent_before = len(sent)
    await asyncio.sleep(OUTAGE_SECONDS)
    nats.start()
    restarted = time.monotonic()
    sent_during = len(sent) - sent_before
    backlog = len(sent)

    async def caught_up() -> float:
        await wait_until(lambda: len(received) >= backlog, timeout=60)
        return time.monotonic() - restarted

    backlog_delivered = asyncio.create_task(caught_up())
    async with grpc.aio.insecure_channel(processes.addresses["notifications"]) as channel:
        await wait_for_health(channel, SERVING, timeout=30)
    notifications_back = time.monotonic() - restarted
    await asyncio.sleep(3)  # traffic goes on with NATS back
    sending = False
    await sender

    # Stored while NATS was away, none lost, in the order sent.
    assert await stored_messages(client, owner, thread_id) == [first, *sent]
    follower_caught_up = await backlog_delivered
    await wait_until(lambda: len(received) >= len(sent), timeout=60)
    follower.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await follower
    assert received == sent  # every one, once, in order, across every resume
    assert ends  # the stream did end with the outage, and was resumed

    # A client that was away the whole time comes back with its cursor from before the
    # crash: everything that piled up, far more than the stream buffer, replays at once.
    assert len(sent) - 20 > STREAM_BUFFER_SIZE
    replay_started = time.monotonic()
    late = await client.subscribe(friend, resume_after=start.cursor)
    replayed: list[str] = []
    async with asyncio.timeout(60):
        while len(replayed) < len(sent):
            replayed.append((await late.read()).envelope.payload["message_id"])
    replay_took = time.monotonic() - replay_started
    assert replayed == sent
    late.cancel()
    report(
        "nats killed",
        outage=restarted - killed,
        sent=len(sent),
        sent_while_down=sent_during,
        notifications_serving_after_restart=notifications_back,
        follower_caught_up_after_restart=follower_caught_up,
        follower_stream_ends=len(ends),
        late_replay=replay_took,
        late_replayed=len(replayed),
    )
    await client.close()


async def subscribe_once_served(client: Client, identity: str, timeout: float = 30.0):
    """A live stream, subscribing again while the service answers UNAVAILABLE (as clients do)."""
    async with asyncio.timeout(timeout):
        while True:
            stream = await client.subscribe(identity)
            if not stream.done():
                return stream
            if await stream.code() != grpc.StatusCode.UNAVAILABLE:
                raise AssertionError(f"{await stream.code()}: {await stream.details()}")
            await asyncio.sleep(0.05)


class NatsRelay:
    """A TCP relay between services and NATS, which can make NATS close what it carries: it
    sends NATS, on each connection, a control line longer than NATS takes, exactly as
    Notifications once did for an over-long room. NATS answers -ERR and closes the
    connection; the relay passes both on to the service.

    It runs on an event loop of its own, in a thread: the test's loop blocks while the
    fixtures stop the processes, and the services must reach NATS while they stop."""

    def __init__(self, nats_port: int) -> None:
        self._nats_port = nats_port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats-relay", daemon=True)
        self._upstreams: list[asyncio.StreamWriter] = []
        self._writers: list[asyncio.StreamWriter] = []  # both ends of every connection
        self._relays: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    async def make_nats_close_connections(self) -> None:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._overflow(), self._loop))

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()
        await asyncio.gather(*self._relays, return_exceptions=True)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._relays.add(asyncio.current_task())  # type: ignore[arg-type]
        upstream_reader, upstream = await asyncio.open_connection("127.0.0.1", self._nats_port)
        self._upstreams.append(upstream)
        self._writers += [writer, upstream]
        await asyncio.gather(
            self._pipe(reader, upstream), self._pipe(upstream_reader, writer), return_exceptions=True
        )

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65536):
                target.write(chunk)
                await target.drain()
        finally:
            target.close()

    async def _overflow(self) -> None:
        for upstream in self._upstreams:
            if not upstream.is_closing():
                upstream.write(b"PUB agyn.rooms." + b"x" * 5000 + b" 0\r\n\r\n")
                await upstream.drain()


class TestNatsClosingAConnection:
    @pytest.fixture
    def relay(self, nats) -> Iterator[NatsRelay]:
        relay = NatsRelay(nats.port)
        relay.start()
        yield relay
        relay.close()

    @pytest.fixture
    def nats_url_of(self, nats, relay):
        """Notifications reaches NATS through the relay; the others directly."""
        return lambda service: relay.url if service == "notifications" else nats.url

    async def test_the_service_connects_anew_by_itself(self, processes, relay):
        client = Client(processes)
        owner, friend = await client.user("olga"), await client.user("fred")
        thread_id = await client.thread_between(owner, friend)
        stream = await client.subscribe(friend)
        before = await client.send(owner, thread_id, "before")
        async with asyncio.timeout(10):
            assert (await stream.read()).envelope.payload["message_id"] == before

        closed_at = time.monotonic()
        await relay.make_nats_close_connections()
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            async with asyncio.timeout(10):
                await stream.read()
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
        stream_ended = time.monotonic() - closed_at
        # NATS did close it, for good as far as the NATS client goes.
        await wait_until(lambda: "maximum control line exceeded" in processes.log_tail("notifications"))

        stream = await subscribe_once_served(client, friend)
        serving_again = time.monotonic() - closed_at
        after = await client.send(owner, thread_id, "after")
        async with asyncio.timeout(10):
            assert (await stream.read()).envelope.payload["message_id"] == after
        stream.cancel()
        async with grpc.aio.insecure_channel(processes.addresses["notifications"]) as channel:
            await wait_for_health(channel, SERVING)  # ready, and never restarted:
            liveness = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service="liveness")
            )
        assert liveness.status == SERVING
        assert processes.log_tail("notifications", 1000).count("listening on") == 1
        report("nats closed the connection", stream_ended=stream_ended, serving_again=serving_again)
        await client.close()
