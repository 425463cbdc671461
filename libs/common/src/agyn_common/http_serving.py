"""Plain HTTP served with hypercorn (ASGI): the Gateway's port, and a service's HTTP port beside
its gRPC one (Tracing's OTLP/HTTP, `Runtime.serve_http`).

`HttpServer` is hypercorn on a socket of its own, stopped in two steps that the owner places in
its stop sequence (`agyn_common.server`, the Gateway's): `refuse_new_streams` before the door
closes, `stop_taking_requests` when the gRPC server sends its GOAWAY; the requests in flight
then finish within the grace period.

`HttpRoutes` is what a service serves there, with what the gRPC pipeline gives every call
(`agyn_common.pipeline`): the calls' door (`agyn_common.gate`), a SERVER span continuing the
client's `traceparent`, the request's outcome in the metrics, the body bounded (and gzip
decoded, bounded again), and failures mapped to HTTP statuses in one place (`http_status`):
a ServiceError by its gRPC code, a database away 503, anything else 500 "internal error".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
import zlib
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import grpc
from google.rpc import status_pb2
from hypercorn.asyncio import serve
from hypercorn.config import Config
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from prometheus_client import Histogram

from agyn_common.errors import ServiceError, database_unavailable
from agyn_common.gate import CallGate
from agyn_common.http_connections import (
    close_connections_promptly,
    close_idle_connections,
    refuse_new_streams,
)
from agyn_common.metrics import Metrics
from agyn_common.pipeline import database_away

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

# google.rpc's own mapping of its codes to HTTP (google/rpc/code.proto).
_HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
}
# Answers a client may retry, and when (OTLP/HTTP clients honour Retry-After).
RETRYABLE = frozenset({429, 502, 503, 504})
RETRY_AFTER_SECONDS = 1
# What is still read of a body after its answer is ready (a refused one): an HTTP/1.1 client
# writes the whole body before it reads the answer, and would see a reset instead of it.
DRAIN_MAX_BYTES = 64 * 2**20
# A gzip body larger than this (as sent) is inflated in a thread, the event loop serving
# meanwhile; deflate inflates at most about 1,000 times, so this much costs a few ms at worst.
INFLATE_INLINE_BYTES = 4 * 2**10
CLIENT_CLOSED_REQUEST = 499  # nothing answered: the client went away (nginx's number)


def http_status(code: grpc.StatusCode) -> int:
    return _HTTP_STATUS.get(code, 500)


class HttpRefusal(Exception):
    """A request refused with an HTTP status of its own: a body too large is 413, where
    RESOURCE_EXHAUSTED would be a 429 that clients retry."""

    def __init__(self, status: int, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ClientGone(Exception):
    """The client went away before its request was read: nobody is left to answer."""


class BodyStream:
    """An ASGI request body taken message by message, knowing whether it has ended or its
    client has left; what is not read can be drained before the answer ends."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.complete = False
        self.disconnected = False

    async def drain(self) -> None:
        """Read the rest of the body and drop it, unless the client sends far too much."""
        drained = 0
        while not (self.complete or self.disconnected) and drained <= DRAIN_MAX_BYTES:
            drained += len((await self._next()).get("body", b""))

    async def _next(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self.disconnected = True
        elif message["type"] == "http.request" and not message.get("more_body", False):
            self.complete = True
        return message


class RequestBody(BodyStream):
    """A request's body, read once as a whole: at most `max_bytes`, as sent and once inflated."""

    def __init__(self, receive: Receive, declared: int | None, encoding: str, max_bytes: int) -> None:
        super().__init__(receive)
        self._declared = declared  # Content-Length, when sent
        self._encoding = encoding
        self._max_bytes = max_bytes

    def _too_large(self, what: str = "") -> HttpRefusal:
        return HttpRefusal(
            413, grpc.StatusCode.RESOURCE_EXHAUSTED, f"the body is larger than {self._max_bytes} bytes{what}"
        )

    async def read(self) -> bytes:
        if self._encoding not in ("", "identity", "gzip"):
            raise HttpRefusal(
                415,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Content-Encoding {self._encoding} is not supported: send gzip, or no encoding",
            )
        if self._declared is not None and self._declared > self._max_bytes:
            raise self._too_large()
        chunks, size = [], 0
        while not self.complete:
            chunk = (await self._next()).get("body", b"")
            if self.disconnected:
                raise ClientGone
            size += len(chunk)
            if size > self._max_bytes:
                raise self._too_large()
            chunks.append(chunk)
        data = b"".join(chunks)
        if self._encoding != "gzip":
            return data
        if len(data) <= INFLATE_INLINE_BYTES:
            return self._inflate(data)
        return await asyncio.to_thread(self._inflate, data)

    def _inflate(self, data: bytes) -> bytes:
        """The gzip members of `data`, inflated; never more than `max_bytes` of them."""
        parts: list[bytes] = []
        size = 0
        while data:
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            try:
                part = inflater.decompress(data, self._max_bytes + 1 - size)
            except zlib.error:
                raise HttpRefusal(
                    400, grpc.StatusCode.INVALID_ARGUMENT, "the body is not valid gzip"
                ) from None
            size += len(part)
            if size > self._max_bytes:
                raise self._too_large(" once inflated")
            if not inflater.eof:
                raise HttpRefusal(400, grpc.StatusCode.INVALID_ARGUMENT, "the gzip body is cut short")
            parts.append(part)
            data = inflater.unused_data
        return b"".join(parts)


@dataclass
class Request:
    method: str
    path: str
    # The headers as gRPC metadata (lower-case names), for the same credential and caller checks.
    metadata: list[tuple[str, str]]
    peer: str  # written as gRPC writes a peer ("ipv4:127.0.0.1:5555"), for AccessPolicy
    body: RequestBody

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.metadata if key == name), None)


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


# A refusal's google.rpc.Status as the route's clients read it: (content type, body).
StatusWriter = Callable[[Request, status_pb2.Status], tuple[str, bytes]]


@dataclass(frozen=True)
class Route:
    path: str
    method: str
    handle: Callable[[Request], Awaitable[Response]]
    write_status: StatusWriter


class HttpOutcomes:
    """Each request's duration by method, route and status, as `rpc_server_duration` counts
    the gRPC calls (OpenTelemetry's `http.server.request.duration`)."""

    def __init__(self, histogram: Histogram) -> None:
        self._histogram = histogram

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self._histogram.labels(method, route, str(status)).observe(seconds)


class HttpRoutes:
    """The ASGI application of a service's HTTP port: its routes, each request through the
    calls' door, in a SERVER span, counted."""

    def __init__(
        self,
        routes: Iterable[Route],
        *,
        max_body_bytes: int,
        tracer: Tracer,
        gate: CallGate,
        outcomes: HttpOutcomes | None = None,
    ) -> None:
        self._routes = {route.path: route for route in routes}
        self._max_body_bytes = max_body_bytes
        self._tracer = tracer
        self._gate = gate
        self._outcomes = outcomes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        elif scope["type"] == "http":
            async with self._gate.call():  # while the service stops taking calls, it waits here
                await self._serve(scope, receive, send)
        # Anything else (a WebSocket) is not served: hypercorn refuses it.

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        metadata = [
            (bytes(k).decode("latin-1").lower(), bytes(v).decode("latin-1")) for k, v in scope["headers"]
        ]
        headers = dict(metadata)
        declared = headers.get("content-length", "")
        body = RequestBody(
            receive,
            int(declared) if declared.isdigit() else None,
            headers.get("content-encoding", "").strip().lower(),
            self._max_body_bytes,
        )
        request = Request(scope["method"], scope["path"], metadata, _peer(scope.get("client")), body)
        route = self._routes.get(request.path)
        route_name = route.path if route is not None else ""
        with self._tracer.start_as_current_span(
            f"{request.method} {route_name}".strip(),
            kind=SpanKind.SERVER,
            context=propagate.extract(headers),
            attributes={
                "http.request.method": request.method,
                "url.path": request.path,
                "http.route": route_name,
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            status = CLIENT_CLOSED_REQUEST
            try:
                response = await self._respond(route, request)
                await request.body.drain()
                if not request.body.disconnected:
                    await _send(send, response)
                    status = response.status
            finally:  # a cancel too (the client went away, or the stop's grace is over)
                span.set_attribute("http.response.status_code", status)
                if status >= 500 and status != CLIENT_CLOSED_REQUEST:
                    span.set_status(Status(StatusCode.ERROR))
                if self._outcomes is not None:
                    self._outcomes.observe(request.method, route_name, status, time.perf_counter() - started)

    async def _respond(self, route: Route | None, request: Request) -> Response:
        if route is None:
            return _text(404, f"nothing is served at {request.path}")
        if request.method != route.method:
            return _text(405, f"use {route.method}", (("allow", route.method),))
        try:
            return await route.handle(request)
        except ClientGone:
            request.body.disconnected = True
            return _text(CLIENT_CLOSED_REQUEST, "")
        except HttpRefusal as refusal:
            status, error = refusal.status, ServiceError(refusal.code, refusal.message)
        except ServiceError as service_error:
            status, error = http_status(service_error.code), service_error
        except Exception as failure:
            if database_away(failure):
                log.warning("database unavailable in %s %s: %s", request.method, route.path, failure)
                error = database_unavailable()
            else:
                log.exception("unhandled error in %s %s", request.method, route.path)
                error = ServiceError(grpc.StatusCode.INTERNAL, "internal error")
            status = http_status(error.code)
        content_type, body = route.write_status(request, error.to_status())
        retry = (("retry-after", str(RETRY_AFTER_SECONDS)),) if status in RETRYABLE else ()
        return Response(status, content_type, body, retry)


def _peer(client: Any) -> str:
    if not client:
        return "unknown"
    host, port = client[0], client[1]
    return f"ipv6:[{host}]:{port}" if ":" in host else f"ipv4:{host}:{port}"


def _text(status: int, text: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(status, "text/plain; charset=utf-8", text.encode(), headers)


async def _send(send: Send, response: Response) -> None:
    headers = [
        (b"content-type", response.content_type.encode()),
        (b"content-length", str(len(response.body)).encode()),
        *((key.encode(), value.encode()) for key, value in response.headers),
    ]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on `host:port` (0: any free port), bound now: its port is known
    before the server starts, and a port in use fails the start."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(1024)
    listener.setblocking(False)
    return listener


class HttpServer:
    """hypercorn serving `app` (HTTP/1.1 and cleartext HTTP/2) on `host:port`."""

    def __init__(self, app: App, host: str, port: int, *, grace: float) -> None:
        close_connections_promptly()
        listener = listen(host, port)
        self.port: int = listener.getsockname()[1]
        self.config = Config()
        self.config.bind = [f"fd://{listener.detach()}"]
        self.config.graceful_timeout = grace  # then the requests still running are cancelled
        self.config.errorlog = logging.getLogger("hypercorn.error")
        self.config.include_server_header = False
        # hypercorn drops an HTTP/2 connection after this many requests, killing the calls in
        # flight on it; gRPC clients keep one connection for everything, so never.
        self.config.keep_alive_max_requests = 2**62
        # An idle connection is kept for minutes, not hypercorn's 5 s: a client reusing it just
        # as it is closed loses its request, and proxies in front keep connections for long.
        self.config.keep_alive_timeout = 300
        self._app = app
        self._stop_requested = asyncio.Event()
        self.serving: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        """Serve, until the stop; the task ends once the last connection has closed."""
        self.serving = asyncio.create_task(
            serve(self._app, self.config, shutdown_trigger=self._stop_requested.wait, mode="asgi"),  # type: ignore[arg-type]
            name=f"http:{self.port}",
        )
        return self.serving

    async def refuse_new_streams(self) -> None:
        """Tell HTTP/2 clients to open no new stream (before the stop's door closes)."""
        await refuse_new_streams(self.config)

    async def stop_taking_requests(self) -> None:
        """Close the port and the idle connections; busy ones close once their requests end."""
        self._stop_requested.set()
        await asyncio.sleep(0)  # hypercorn's shutdown starts
        await close_idle_connections(self.config)

    async def wait_closed(self, timeout: float) -> None:
        """Wait for the requests still running (hypercorn cancels them after the grace)."""
        if self.serving is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await asyncio.shield(self.serving)
        if not self.serving.done():
            self.serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.serving


@dataclass(frozen=True)
class HttpService:
    """A plain-HTTP port a service asked for (`Runtime.serve_http`)."""

    port: int  # 0: any free one
    routes: tuple[Route, ...]
    max_body_bytes: int


def bind_http_servers(
    service: str,
    requested: Mapping[str, HttpService],
    open_paths: Collection[str],
    *,
    host: str,
    grace: float,
    gate: CallGate,
    tracer: Tracer,
    metrics: Metrics | None,  # None: not measured
) -> dict[str, HttpServer]:
    """The HTTP ports a service asked for, bound, not yet serving; every path must be open in
    its access declaration."""
    if not requested:
        return {}
    outcomes = None
    if metrics is not None:
        outcomes = HttpOutcomes(
            metrics.histogram(
                "http_server_request_duration_seconds",
                "Duration of the plain-HTTP requests this service served, by method, route and status.",
                ("http_request_method", "http_route", "http_response_status_code"),
            )
        )
    servers: dict[str, HttpServer] = {}
    for name, asked in requested.items():
        undeclared = {route.path for route in asked.routes} - set(open_paths)
        if undeclared:
            raise ValueError(f"HTTP paths missing from the access declaration: {sorted(undeclared)}")
        app = HttpRoutes(
            asked.routes, max_body_bytes=asked.max_body_bytes, tracer=tracer, gate=gate, outcomes=outcomes
        )
        servers[name] = HttpServer(app, host, asked.port, grace=grace)
        log.info("%s serves HTTP (%s) on %s:%d", service, name, host, servers[name].port)
    return servers
