"""Each gateway method as a Connect endpoint that forwards the call to its internal service
(gateway-auth-mesh §3.7, §3.8).

The outgoing metadata is built from scratch: the resolved caller (§2.3) and the client's
`idempotency-key` (gRPC metadata, or Connect's `Idempotency-Key` header; checked as the
services check it), nothing else the client sent, so identity headers from clients never
reach a service. A route's `caller_field` is set to the caller's identity id (organizations
sheet §4.1). The client's deadline travels with the call; a unary call without one gets the
default deadline, a stream none (streams such as Subscribe are meant to stay open). A stream's
response headers go out as soon as the downstream stream is accepted (its headers arrive),
before any message, so a client knows a quiet stream is open. A client that goes away
cancels the downstream call.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import grpc
from agyn_common.errors import unauthenticated
from agyn_common.idempotency import IDEMPOTENCY_KEY, idempotency_key
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext
from connectrpc.server import Endpoint
from google.protobuf.message import Message

from agyn_gateway.auth import Authenticator, Principal
from agyn_gateway.errors import as_connect_error
from agyn_gateway.requests import current_request
from agyn_gateway.routes import Route


class Forwarder:
    def __init__(
        self,
        channels: Mapping[str, grpc.aio.Channel],  # backend name -> channel
        authenticator: Authenticator,
        *,
        default_deadline: float,
    ) -> None:
        self._channels = channels
        self._authenticator = authenticator
        self._default_deadline = default_deadline
        self._streams: set[grpc.aio.UnaryStreamCall[Any, Any]] = set()
        self._stopping = False

    def endpoints(self, routes: list[Route]) -> dict[str, Any]:
        """Path -> Endpoint, each route under every path it answers on."""
        endpoints: dict[str, Any] = {}
        for route in routes:
            endpoint: Endpoint[Any, Any]
            if route.server_streaming:
                endpoint = Endpoint.server_stream(route.method, self._stream_forwarder(route))
            else:
                endpoint = Endpoint.unary(route.method, self._unary_forwarder(route))
            for path in route.paths:
                endpoints[path] = endpoint
        return endpoints

    @property
    def open_streams(self) -> int:
        """Downstream streams being relayed."""
        return len(self._streams)

    def end_streams(self) -> None:
        """The gateway is stopping: end every relayed stream now (clients resume elsewhere)."""
        self._stopping = True
        for call in list(self._streams):
            call.cancel()

    async def _caller(self, route: Route, context: RequestContext[Any, Any]) -> Principal | None:
        client = current_request().client
        principal = await self._authenticator.authenticate(
            context.request_headers.get("authorization"), client
        )
        if principal is None:
            if not route.anonymous or route.caller_field is not None:
                raise unauthenticated()
            self._authenticator.admit_anonymous(client)
        return principal

    async def _prepare(
        self, route: Route, request: Message, context: RequestContext[Any, Any]
    ) -> tuple[Message, tuple[tuple[str, str], ...]]:
        """The request to forward and its metadata: the caller's, and the client's key."""
        principal = await self._caller(route, context)
        key = idempotency_key(
            [(IDEMPOTENCY_KEY, value) for value in context.request_headers.getall(IDEMPOTENCY_KEY)]
        )
        metadata = (*(principal.metadata() if principal else ()), *(((IDEMPOTENCY_KEY, key),) if key else ()))
        if route.caller_field is not None and principal is not None:
            request = _copy(request)
            setattr(request, route.caller_field, str(principal.identity_id))
        return request, metadata

    @staticmethod
    def _timeout(context: RequestContext[Any, Any], default: float | None) -> float | None:
        remaining_ms = context.timeout_ms
        return default if remaining_ms is None else max(remaining_ms, 0.0) / 1000

    def _unary_forwarder(
        self, route: Route
    ) -> Callable[[Message, RequestContext[Any, Any]], Awaitable[Message]]:
        call = self._channels[route.backend].unary_unary(route.target, **_serializers(route))

        async def forward(request: Message, context: RequestContext[Any, Any]) -> Message:
            try:
                request, metadata = await self._prepare(route, request, context)
                reply: Message = await call(
                    request, metadata=metadata, timeout=self._timeout(context, self._default_deadline)
                )
            except Exception as error:
                raise as_connect_error(error) from None
            return reply

        return forward

    def _stream_forwarder(
        self, route: Route
    ) -> Callable[[Message, RequestContext[Any, Any]], AsyncIterator[Message]]:
        open_stream = self._channels[route.backend].unary_stream(route.target, **_serializers(route))

        async def forward(request: Message, context: RequestContext[Any, Any]) -> AsyncIterator[Message]:
            try:
                request, metadata = await self._prepare(route, request, context)
            except Exception as error:
                raise as_connect_error(error) from None
            if self._stopping:
                raise ConnectError(Code.UNAVAILABLE, "the gateway is stopping")
            call = open_stream(request, metadata=metadata, timeout=self._timeout(context, None))
            self._streams.add(call)
            try:
                # The service accepted the stream (a refusal ends it first): the client's
                # headers go now, not with the first message.
                await call.initial_metadata()
                if not call.done():
                    await current_request().accept_stream()
                async for reply in call:
                    yield reply
            except asyncio.CancelledError:
                if not self._stopping:  # the client went away
                    raise
                raise ConnectError(
                    Code.UNAVAILABLE, "the gateway is stopping; resume with the last cursor"
                ) from None
            except Exception as error:
                raise as_connect_error(error) from None
            finally:
                self._streams.discard(call)
                call.cancel()  # the client went away (or the stream ended): release the downstream call

        return forward


def _copy(request: Message) -> Message:
    copied = type(request)()
    copied.CopyFrom(request)
    return copied


def _serializers(route: Route) -> dict[str, Any]:
    """The messages go through as they are: the Gateway's types are the service's."""
    return {
        "request_serializer": route.method.input.SerializeToString,
        "response_deserializer": route.method.output.FromString,
    }
