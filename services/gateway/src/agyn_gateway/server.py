"""Serving the Gateway: one port, HTTP/1.1 and cleartext HTTP/2 (hypercorn), Connect, gRPC
and gRPC-Web (connectrpc), and a graceful stop.

Every call is a SERVER span (connectrpc's OpenTelemetry interceptor) continuing the client's
`traceparent` when it sends one; the calls it forwards carry that trace on (DESIGN §6).

The Gateway answers `grpc.health.v1.Health/Check` itself, on the same port, so probes and
`make up` see it like any other service. It has no state of its own: it is SERVING from
start until it begins to stop; a backing service that is away shows as that service's
UNAVAILABLE. It also answers gRPC reflection for what it serves, so tools need no proto files.

Its stop follows the services' (`agyn_common.server`) as far as hypercorn allows: NOT_SERVING
at once while every request is still served for the lame duck (`SHUTDOWN_LAME_DUCK_SECONDS`);
then HTTP/2 clients are told to open no new stream (`HttpServer.refuse_new_streams`) and new
requests wait at the door (`agyn_common.gate`) until none has arrived for a moment; relayed
streams end with UNAVAILABLE (resume with the last cursor); hypercorn closes the port and
its idle connections; the waiting requests run, and every connection closes once its
requests are done, within the grace period (`SHUTDOWN_GRACE_SECONDS`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from agyn_common.bus import Bus
from agyn_common.clients import ServiceChannels
from agyn_common.http_serving import HttpServer
from agyn_common.metrics import Metrics
from agyn_common.ratelimit import RateLimiter
from agyn_common.server import LIVENESS_SERVICE
from connectrpc.code import Code
from connectrpc.compat import google_protobuf_binary_codec
from connectrpc.compression.gzip import GzipCompression
from connectrpc.errors import ConnectError
from connectrpc.method import IdempotencyLevel, MethodInfo, StreamType
from connectrpc.request import RequestContext
from connectrpc.server import ConnectASGIApplication, Endpoint
from connectrpc_otel import OpenTelemetryInterceptor
from google.protobuf import json_format
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2
from opentelemetry.trace import TracerProvider

from agyn_gateway.auth import Authenticator
from agyn_gateway.forwarding import Forwarder
from agyn_gateway.http_layer import GatewayHttp
from agyn_gateway.measures import GatewayMeasures
from agyn_gateway.oidc import ClaimNames, OidcProvider
from agyn_gateway.reflection import reflection_endpoints
from agyn_gateway.requests import current_request
from agyn_gateway.routes import BACKENDS, Backend, Route, routes_of
from agyn_gateway.settings import GatewaySettings
from agyn_gateway.uploads import file_uploads

log = logging.getLogger(__name__)

HEALTH_SERVICE = "grpc.health.v1.Health"
# Deadline of the Gateway's own calls (credential resolution through Users).
AUTH_DEADLINE_SECONDS = 5.0


class CompactJsonCodec:
    """proto3 canonical JSON on one line (google.protobuf indents by default)."""

    def name(self) -> str:
        return "json"

    def encode(self, message: Message) -> bytes:
        return json_format.MessageToJson(message, indent=None).encode()

    def decode(self, data: bytes | bytearray, message_class: type[Message]) -> Message:
        message = message_class()
        # Unknown fields are ignored, as by the binary codec: newer clients keep working.
        json_format.Parse(bytes(data), message, ignore_unknown_fields=True)
        return message


class _Gzip(GzipCompression):
    """gzip whose refusal of a message too large once decompressed counts as a body too
    large (413 in Connect), like the refusal of a body too large as sent."""

    def decompress(self, data: bytes | bytearray | memoryview, read_max_bytes: int | None = None) -> bytes:
        try:
            return super().decompress(data, read_max_bytes)
        except ConnectError as error:
            if error.code is Code.RESOURCE_EXHAUSTED:
                current_request().too_large = True
            raise


class _Rpc(ConnectASGIApplication[None]):
    """The RPC surface: the endpoints built from the routes, plus health."""

    def __init__(
        self,
        endpoints: dict[str, Any],
        tracer_provider: TracerProvider | None,
        max_message_bytes: int,
        measures: GatewayMeasures | None,
    ) -> None:
        self._measures = measures
        # endpoints: path -> Endpoint
        super().__init__(
            service=None,
            endpoints=lambda _: endpoints,
            codecs=[google_protobuf_binary_codec(), CompactJsonCodec()],
            # Alone and first, it runs before the request is read: the span covers it all.
            interceptors=[OpenTelemetryInterceptor(tracer_provider=tracer_provider)],
            read_max_bytes=max_message_bytes,
            compressions=[_Gzip()],
        )

    @property
    def path(self) -> str:
        return "/"

    async def _stream_responses(
        self,
        endpoint: Any,
        request_stream: Any,
        stream: Any,
        metadata_run: Any,
        disconnected: Any,
        send: Any,
        loop: Any,
        ctx: Any,
    ) -> None:
        """connectrpc sends a stream's response headers with its first message; the
        forwarder sends them as soon as the downstream stream is accepted, through this
        (connectrpc 0.13.0, pinned exactly: `_StreamResponse.send_headers` and
        `_ResponseSender.started`, which keeps connectrpc from sending them again)."""

        async def send_headers() -> None:
            if not (send.started or send.failed):
                await stream.send_headers(send, ctx)

        current_request().send_stream_headers = send_headers
        if self._measures is not None:
            self._measures.open_streams.inc()
        try:
            await super()._stream_responses(
                endpoint, request_stream, stream, metadata_run, disconnected, send, loop, ctx
            )
        finally:
            if self._measures is not None:
                self._measures.open_streams.dec()


def served_backends(settings: GatewaySettings) -> list[Backend]:
    """Every backend whose service has an address in `settings`."""
    return [backend for backend in BACKENDS if getattr(settings, f"{backend.name}_address", None)]


def served_routes(settings: GatewaySettings, anonymous_methods: frozenset[str]) -> list[Route]:
    """Every route of the served backends."""
    return [
        dataclasses.replace(route, anonymous=route.anonymous or bool(anonymous_methods & set(route.paths)))
        for backend in served_backends(settings)
        for route in routes_of(backend)
    ]


@dataclass
class RunningGateway:
    port: int
    forwarder: Forwarder
    bus: Bus
    channels: ServiceChannels
    http: httpx.AsyncClient
    not_serving: asyncio.Event  # health answers NOT_SERVING: the stop has begun
    server: HttpServer
    serving: asyncio.Task[None]  # ends when the server has stopped
    grace: float
    lame_duck: float
    app: GatewayHttp
    metrics: Metrics
    metrics_port: int | None  # where /metrics is served, when it is
    _hurry: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    _stopped: asyncio.Future[None] | None = None

    @property
    def open_calls(self) -> int:
        return self.app.open_calls

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def hurry(self) -> None:
        """End the lame duck of a stop now (a second SIGTERM or Ctrl-C does this)."""
        self._hurry.set()

    async def stop(self, lame_duck: float | None = None) -> None:
        """The stop sequence (module docstring); `lame_duck` defaults to the setting. A second
        call waits for the first."""
        if self._stopped is None:
            lame_duck = self.lame_duck if lame_duck is None else lame_duck
            self._stopped = asyncio.ensure_future(self._stop(lame_duck))
        await asyncio.shield(self._stopped)

    async def _stop(self, lame_duck: float) -> None:
        self.not_serving.set()
        if lame_duck > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(lame_duck):
                    await self._hurry.wait()
            log.info("lame duck over: taking no new requests, letting the accepted ones finish")
        await self.server.refuse_new_streams()
        if not await self.app.gate.close_door():
            log.warning("requests kept arriving: closing without a quiet moment")
        self.forwarder.end_streams()
        # hypercorn closes the port and the idle connections, then each busy one once idle
        await self.server.stop_taking_requests()
        self.app.gate.open_door()
        await self.server.wait_closed(self.grace + 5)
        await self.channels.close()
        await self.http.aclose()
        await self.bus.close()
        self.metrics.close()


def _health_endpoint(not_serving: asyncio.Event, services: set[str]) -> Endpoint[Any, Any]:
    method = MethodInfo(
        name="Check",
        service_name=HEALTH_SERVICE,
        input=health_pb2.HealthCheckRequest,
        output=health_pb2.HealthCheckResponse,
        idempotency_level=IdempotencyLevel.NO_SIDE_EFFECTS,
        stream_type=StreamType.UNARY,
    )

    async def check(
        request: health_pb2.HealthCheckRequest, _context: RequestContext[Any, Any]
    ) -> health_pb2.HealthCheckResponse:
        if request.service and request.service not in services:
            raise ConnectError(Code.NOT_FOUND, f"unknown service {request.service}")
        # Liveness stays SERVING while it stops: Kubernetes restarts no pod for stopping.
        status = (
            health_pb2.HealthCheckResponse.NOT_SERVING
            if not_serving.is_set() and request.service != LIVENESS_SERVICE
            else health_pb2.HealthCheckResponse.SERVING
        )
        return health_pb2.HealthCheckResponse(status=status)

    return Endpoint.unary(method, check)


async def start_gateway(
    settings: GatewaySettings,
    *,
    anonymous_methods: frozenset[str] = frozenset(),
    jwks_refetch_interval: float = 5.0,
    tracer_provider: TracerProvider | None = None,  # None: the process's
) -> RunningGateway:
    """Start serving; `anonymous_methods` adds paths open without identity (for tests)."""
    channels = ServiceChannels(
        "gateway",
        settings.agyn_access_mode,
        default_deadline=AUTH_DEADLINE_SECONDS,
        tracer_provider=tracer_provider,
    )
    bus = Bus(settings.nats_url, name="gateway", tracer_provider=tracer_provider)
    http = httpx.AsyncClient()
    oidc = None
    if settings.oidc_issuer_url is not None:
        oidc = OidcProvider(
            http,
            issuer=settings.oidc_issuer_url,
            audience=settings.oidc_audience,
            profile_source=settings.oidc_profile_source,
            claims=ClaimNames(
                name=settings.oidc_name_claim,
                email=settings.oidc_email_claim,
                picture=settings.oidc_picture_claim,
                username=settings.oidc_username_claim,
            ),
            refetch_interval=jwks_refetch_interval,
            max_age=settings.oidc_jwks_max_age_seconds,
        )
    bootstrap: tuple[str, uuid.UUID] | None = None
    if settings.cluster_admin_token is not None and settings.cluster_admin_identity_id is not None:
        bootstrap = (settings.cluster_admin_token, settings.cluster_admin_identity_id)
    metrics = Metrics()
    measures = GatewayMeasures(metrics) if settings.metrics_port else None
    authenticator = Authenticator(
        channels.channel(settings.users_address),
        oidc=oidc,
        bootstrap=bootstrap,
        cache_seconds=settings.credential_cache_seconds,
        anonymous_limiter=RateLimiter(settings.anonymous_rate_per_second, settings.anonymous_burst),
        refused=measures.authentication_failures if measures is not None else None,
    )
    authenticator.attach(bus)
    bus.start()

    routes = served_routes(settings, anonymous_methods)
    channel_of = {
        route.backend: channels.channel(getattr(settings, f"{route.backend}_address")) for route in routes
    }
    forwarder = Forwarder(
        channel_of,
        authenticator,
        default_deadline=settings.default_deadline_seconds,
        upload_deadline=settings.stream_upload_deadline_seconds,
    )
    not_serving = asyncio.Event()
    endpoints = forwarder.endpoints(routes)
    gateway_services = {route.method.service_name for route in routes} | {LIVENESS_SERVICE}
    endpoints[f"/{HEALTH_SERVICE}/Check"] = _health_endpoint(not_serving, gateway_services)
    endpoints.update(reflection_endpoints(served_backends(settings)))
    app = GatewayHttp(
        _Rpc(endpoints, tracer_provider, settings.max_request_bytes, measures),
        authenticator,
        served_paths=endpoints.keys(),
        path_prefix=settings.path_prefix,
        client_address_header=settings.client_address_header,
        max_request_bytes=settings.max_request_bytes,
        request_streams=[path for route in routes if route.client_streaming for path in route.paths],
        uploads=file_uploads(routes, forwarder, authenticator, max_other_bytes=settings.max_request_bytes),
        measures=measures,
    )
    metrics_port = None
    if measures is not None:
        bus.measure_with(metrics)
        metrics_port = metrics.serve(settings.grpc_host, settings.metrics_port)

    server = HttpServer(app, settings.grpc_host, settings.grpc_port, grace=settings.shutdown_grace_seconds)
    serving = server.start()
    if oidc is not None:
        asyncio.create_task(oidc.warm(), name="oidc-warm")  # noqa: RUF006 - it ends on its own
    log.info(
        "gateway listening on %s:%d for %s",
        settings.grpc_host,
        server.port,
        ", ".join(sorted(gateway_services)) or "nothing",
    )
    return RunningGateway(
        port=server.port,
        forwarder=forwarder,
        bus=bus,
        channels=channels,
        http=http,
        not_serving=not_serving,
        server=server,
        serving=serving,
        grace=settings.shutdown_grace_seconds,
        lame_duck=settings.shutdown_lame_duck_seconds,
        app=app,
        metrics=metrics,
        metrics_port=metrics_port,
    )
