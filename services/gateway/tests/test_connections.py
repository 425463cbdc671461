"""Connections, over HTTP/1.1 and cleartext HTTP/2: an unknown method, an error and a client
that vanishes mid-stream leave the connection's other calls working, and every resource of
the call is freed at once (open calls, relayed streams and half-open sockets back to their
baseline). Also what attackers send over Connect JSON: never a 5xx."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import h2.config
import h2.connection
import h2.events
import httpx
import pytest
from agyn_inprocess.gateway import USERS_GATEWAY, Gateway, frame, frames, grpc_web_trailers
from agyn_testkit.harness import wait_until

SUBSCRIBE = "/agynio.api.gateway.v1.NotificationsGateway/Subscribe"
GET_ME = f"/{USERS_GATEWAY}/GetMe"
CLOSE_WAIT = "08"  # the state column of /proc/net/tcp


def half_open_sockets(port: int) -> int:
    """Sockets of `port` whose client closed its side and the server has not (CLOSE-WAIT)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            count += local_port == port and fields[3] == CLOSE_WAIT
    return count


def released(gateway: Gateway, baseline_sockets: int):
    """Whether every call ended, every relayed stream too, and no socket is left half-open."""
    running = gateway.running
    return lambda: (
        running.open_calls == 0
        and running.forwarder.open_streams == 0
        and half_open_sockets(running.port) <= baseline_sockets
    )


@pytest.fixture
async def token(gateway) -> str:
    return await gateway.token_for(await gateway.platform.admin())


def client(version: str) -> httpx.AsyncClient:
    """HTTP/1.1, or HTTP/2 with prior knowledge (h2c), one connection for every call."""
    limits = httpx.Limits(max_connections=1)
    if version == "2":
        return httpx.AsyncClient(http1=False, http2=True, timeout=10, limits=limits)
    return httpx.AsyncClient(timeout=10, limits=limits)


async def slowly(*chunks: bytes) -> AsyncIterator[bytes]:
    """A request body whose end comes after the server could have answered."""
    for chunk in chunks:
        yield chunk
        await asyncio.sleep(0.2)


class H2Client:
    """A cleartext HTTP/2 connection driven frame by frame, so a test can reset one stream
    (as a gRPC client cancelling a call does) or drop the connection (a client that dies)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        config = h2.config.H2Configuration(client_side=True, header_encoding=None)
        self.h2 = h2.connection.H2Connection(config)
        self.h2.initiate_connection()
        self.received: dict[int, bytes] = {}
        self.ended: set[int] = set()

    @classmethod
    async def open(cls, gateway: Gateway) -> H2Client:
        return cls(*await asyncio.open_connection("127.0.0.1", gateway.running.port))

    async def post(self, path: str | bytes, body: bytes, **headers: str) -> int:
        """Send a request; returns its stream. Without a body, a GET."""
        stream = self.h2.get_next_available_stream_id()
        method = "POST" if body else "GET"
        fields = [(":method", method), (":scheme", "http"), (":authority", "gateway"), (":path", path)]
        self.h2.send_headers(stream, [*fields, *headers.items()], end_stream=not body)
        if body:
            self.h2.send_data(stream, body, end_stream=True)
        await self._flush()
        return stream

    async def reset(self, stream: int) -> None:
        self.h2.reset_stream(stream, h2.errors.ErrorCodes.CANCEL)
        await self._flush()

    async def until(self, condition) -> None:
        """Read frames until `condition()` holds."""
        while not condition():
            data = await asyncio.wait_for(self.reader.read(65536), 10)
            assert data, "the gateway closed the connection"
            for event in self.h2.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    self.received[event.stream_id] = self.received.get(event.stream_id, b"") + event.data
                    self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                    self.ended.add(event.stream_id)
            await self._flush()

    def drop(self) -> None:
        self.writer.close()

    async def _flush(self) -> None:
        self.writer.write(self.h2.data_to_send())
        await self.writer.drain()


async def get_me(http: httpx.AsyncClient, gateway: Gateway, token: str) -> tuple[str, int]:
    """GetMe, which must succeed; returns the client's end of the connection it used."""
    reply = await http.post(
        f"{gateway.url}{GET_ME}",
        content=b"{}",
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
    )
    assert reply.status_code == 200, reply.text
    return reply.extensions["network_stream"].get_extra_info("client_addr")


@pytest.mark.parametrize("version", ["1.1", "2"])
async def test_unknown_methods_and_errors_leave_the_connection_working(gateway, token, version):
    sockets = half_open_sockets(gateway.running.port)
    async with client(version) as http:
        connection = await get_me(http, gateway, token)
        failures = [
            # Answered before the rest of the body arrives: hypercorn dropped HTTP/2 connections.
            ("/agynio.api.gateway.v1.NopeGateway/Nope", slowly(b'{"a":', b"1}"), {}, 404),
            ("/api/nowhere", slowly(b"{", b"}"), {}, 404),
            (GET_ME, slowly(b"{", b"}"), {}, 401),  # an error of the service's
            (GET_ME, b"{", {"authorization": f"Bearer {token}"}, 400),  # malformed JSON
            # Refused by its Content-Length before the body is read.
            (GET_ME, b" " * (5 * 2**20), {"authorization": f"Bearer {token}"}, 413),
        ]
        for path, body, headers, status in failures:
            reply = await http.post(
                f"{gateway.url}{path}", content=body, headers={"content-type": "application/json", **headers}
            )
            assert reply.status_code == status, (path, reply.text)
            assert await get_me(http, gateway, token) == connection, path
    await wait_until(released(gateway, sockets))


async def test_a_reset_stream_ends_its_call_and_leaves_the_connection_working(gateway, token):
    sockets = half_open_sockets(gateway.running.port)
    connection = await H2Client.open(gateway)
    credentials = {"authorization": f"Bearer {token}", "content-type": "application/connect+json"}
    subscribe = frame(json.dumps({"rooms": ["thread_participant:me"]}).encode())
    streams = [await connection.post(SUBSCRIBE, subscribe, **credentials) for _ in range(2)]
    await wait_until(lambda: gateway.running.forwarder.open_streams == 2)
    await connection.reset(streams[0])  # the client cancels one call
    await wait_until(lambda: gateway.running.forwarder.open_streams == 1)
    call = await connection.post(GET_ME, b"{}", **{**credentials, "content-type": "application/json"})
    await connection.until(lambda: call in connection.ended)
    assert json.loads(connection.received[call])["user"]["meta"]["id"]
    assert streams[1] not in connection.ended  # the other stream lives on
    connection.drop()
    await wait_until(released(gateway, sockets))


@pytest.mark.parametrize("version", ["1.1", "2"])
async def test_a_client_that_vanishes_mid_stream_frees_its_call_at_once(gateway, token, version):
    sockets = half_open_sockets(gateway.running.port)
    body = frame(json.dumps({"rooms": ["thread_participant:me"]}).encode())
    headers = {"authorization": f"Bearer {token}", "content-type": "application/connect+json"}
    if version == "2":
        connection = await H2Client.open(gateway)
        await connection.post(SUBSCRIBE, body, **headers)
        await wait_until(lambda: gateway.running.forwarder.open_streams == 1)
        connection.drop()
    else:
        _, writer = await asyncio.open_connection("127.0.0.1", gateway.running.port)
        fields = "".join(f"{key}: {value}\r\n" for key, value in {**headers, "host": "gateway"}.items())
        writer.write(
            f"POST {SUBSCRIBE} HTTP/1.1\r\n{fields}content-length: {len(body)}\r\n\r\n".encode() + body
        )
        await wait_until(lambda: gateway.running.forwarder.open_streams == 1)
        writer.close()
    await wait_until(released(gateway, sockets))


ODD_AUTHORIZATION = [
    b"Bearer \xff\xfe",
    b"Bearer \xc3",
    "Bearer é".encode(),
    b"Bearer a b",
    b"Bearer \x01",
    b"Basic dXNlcjpwYXNz",
    b"Bearer " + b"a" * 8000,
    b"bearer",
]


@pytest.mark.parametrize("authorization", ODD_AUTHORIZATION)
async def test_odd_authorization_headers_are_unauthenticated(gateway, authorization):
    for path in (GET_ME, "/me"):
        reply = await gateway.http.request(
            "GET" if path == "/me" else "POST",
            f"{gateway.url}{path}",
            content=b"{}",
            headers=[(b"content-type", b"application/json"), (b"authorization", authorization)],
        )
        assert reply.status_code == 401, reply.text
        assert "codec" not in reply.text and "Error" not in reply.text


async def test_headers_that_are_not_utf8_are_read_for_their_meaning(gateway, token):
    """Every header the Gateway reads: never a 5xx, never the exception's text."""
    credentials = (b"authorization", f"Bearer {token}".encode())
    json_type = (b"content-type", b"application/json")
    grpc_web = (b"content-type", b"application/grpc-web+proto")
    cases = [
        ([credentials, json_type, (b"x-request-id", b"\xff")], 200),
        ([credentials, json_type, (b"user-agent", b"\xff\xfe")], 200),
        ([credentials, (b"content-type", b"application/\xffjson")], 415),
        ([credentials, json_type, (b"connect-timeout-ms", b"\xff")], 400),
        ([credentials, json_type, (b"content-encoding", b"\xff")], 501),
        ([credentials, grpc_web, (b"grpc-timeout", b"\xff")], 200),  # INVALID_ARGUMENT in the trailers
    ]
    for headers, status in cases:
        body = frame(b"") if grpc_web in headers else b"{}"
        reply = await gateway.http.post(f"{gateway.url}{GET_ME}", content=body, headers=headers)
        assert reply.status_code == status, (headers, reply.text)
        assert "codec" not in reply.text
    # A query that is not UTF-8: HTTP/1.1 refuses it, HTTP/2 passes it on.
    connection = await H2Client.open(gateway)
    check = await connection.post(b"/grpc.health.v1.Health/Check?encoding=json&message=%7B%7D&x=\xff", b"")
    await connection.until(lambda: check in connection.ended)
    assert json.loads(connection.received[check]) == {"status": "SERVING"}
    connection.drop()


async def test_a_client_address_header_that_is_not_utf8(gateway_with):
    async with gateway_with(client_address_header="x-client") as proxied:
        reply = await proxied.http.post(
            f"{proxied.url}{GET_ME}",
            content=b"{}",
            headers=[(b"content-type", b"application/json"), (b"x-client", b"\xff, 10.0.0.1")],
        )
        assert reply.status_code == 401, reply.text


async def test_bodies_too_large_are_413_in_connect_and_resource_exhausted_in_grpc(gateway, token):
    credentials = {"authorization": f"Bearer {token}"}
    huge = b"{" + b" " * (10 * 2**20) + b"}"
    for body in (huge, slowly(huge[: 2**20], huge[2**20 :])):  # with a Content-Length and without
        headers = {**credentials, "content-type": "application/json"}
        reply = await gateway.http.post(f"{gateway.url}{GET_ME}", content=body, headers=headers)
        assert reply.status_code == 413
        assert reply.json()["code"] == "resource_exhausted"
    bomb = gzip.compress(huge)  # small as sent, too large once decompressed
    reply = await gateway.http.post(
        f"{gateway.url}{GET_ME}",
        content=bomb,
        headers={**credentials, "content-type": "application/json", "content-encoding": "gzip"},
    )
    assert reply.status_code == 413
    assert reply.json()["code"] == "resource_exhausted"
    reply = await gateway.http.post(
        f"{gateway.url}{GET_ME}",
        content=frame(b"\x00" * (5 * 2**20)),
        headers={**credentials, "content-type": "application/grpc-web+proto"},
    )
    assert reply.status_code == 200
    assert grpc_web_trailers(frames(reply.content)[-1][1])["grpc-status"] == "8"  # RESOURCE_EXHAUSTED
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        get_me = channel.unary_unary(GET_ME)  # the request as raw bytes
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await get_me(b"\x00" * (5 * 2**20), metadata=tuple(credentials.items()), timeout=10)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", b"{", 400),
        ("application/json", b'{"a": "\\ud800"}', 200),
        ("application/json", b"\xff\xfe", 400),
        ("application/json", b"null", 400),
        ("application/json", b'{"x": ' * 5000 + b"1" + b"}" * 5000, 400),
        ("application/proto", b"\xff\xff\xff", 400),
        ("text/plain", b"{}", 415),
        ("application/xml", b"<a/>", 415),
        ("", b"{}", 415),
        ("application/connect+json", b"{}", 415),  # a streaming type on a unary method
    ],
)
async def test_adversarial_connect_json_is_never_a_5xx(gateway, token, content_type, body, status):
    headers = {"authorization": f"Bearer {token}"}
    if content_type:
        headers["content-type"] = content_type
    reply = await gateway.http.post(f"{gateway.url}{GET_ME}", content=body, headers=headers)
    assert reply.status_code == status, reply.text
