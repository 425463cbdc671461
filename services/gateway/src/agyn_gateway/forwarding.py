"""Each gateway method as a Connect endpoint that forwards the call to its internal service
(gateway-auth-mesh §3.7, §3.8).

The outgoing metadata is built from scratch: the resolved caller (§2.3) and the client's
`idempotency-key` (gRPC metadata, or Connect's `Idempotency-Key` header; checked as the
services check it), and the headers a route passes on (`Backend.passed_headers`: a runner
daemon's `x-runner-address` at enrollment), nothing else the client sent, so identity headers
from clients never reach a service. A route's `caller_field` is set to the caller's identity id (organizations
sheet §4.1). The client's deadline travels with the call; a unary call without one gets the
default deadline, a client stream (an upload) the upload deadline, a server stream none (streams
such as Subscribe are meant to stay open). A client stream is relayed message by message as
the client sends it, never collected, and stops as soon as the service ends the call. A stream's
response headers go out as soon as the downstream stream is accepted (its headers arrive),
before any message, so a client knows a quiet stream is open. A client that goes away
cancels the downstream call.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
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

Metadata = tuple[tuple[str, str], ...]


class Forwarder:
    def __init__(
        self,
        channels: Mapping[str, grpc.aio.Channel],  # backend name -> channel
        authenticator: Authenticator,
        *,
        default_deadline: float,
        upload_deadline: float,
    ) -> None:
        self._channels = channels
        self._authenticator = authenticator
        self._default_deadline = default_deadline
        self._upload_deadline = upload_deadline
        self._client_streams: dict[str, grpc.aio.StreamUnaryMultiCallable[Any, Any]] = {}
        self._streams: set[grpc.aio.UnaryStreamCall[Any, Any]] = set()
        self._stopping = False

    def endpoints(self, routes: list[Route]) -> dict[str, Any]:
        """Path -> Endpoint, each route under every path it answers on."""
        endpoints: dict[str, Any] = {}
        for route in routes:
            endpoint: Endpoint[Any, Any]
            if route.server_streaming:
                endpoint = Endpoint.server_stream(route.method, self._stream_forwarder(route))
            elif route.client_streaming:
                endpoint = Endpoint.client_stream(route.method, self._client_stream_forwarder(route))
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
        metadata = self.metadata(principal, context.request_headers.getall(IDEMPOTENCY_KEY))
        passed = tuple(
            (name, value) for name in route.passed_headers for value in context.request_headers.getall(name)
        )
        metadata = (*metadata, *passed)
        if route.caller_field is not None and principal is not None:
            request = _copy(request)
            setattr(request, route.caller_field, str(principal.identity_id))
        return request, metadata

    @staticmethod
    def metadata(principal: Principal | None, idempotency_keys: Iterable[str]) -> Metadata:
        """What a forwarded call carries: the caller's identity and the client's idempotency key."""
        key = idempotency_key([(IDEMPOTENCY_KEY, value) for value in idempotency_keys])
        return (*(principal.metadata() if principal else ()), *(((IDEMPOTENCY_KEY, key),) if key else ()))

    async def relay_client_stream(
        self,
        route: Route,
        requests: AsyncIterator[Message],
        metadata: Metadata,
        timeout: float | None = None,  # None: the upload deadline
    ) -> Message:
        """Forward each message as it arrives and return the service's answer. Nothing is
        collected: grpc pulls the next message once the last one is sent, so memory stays
        bounded whatever the size of the stream. Once the service has ended the call (it
        refused the stream), no more is read: its status is the answer."""
        open_call = self._client_streams.get(route.target)
        if open_call is None:
            open_call = self._channels[route.backend].stream_unary(route.target, **_serializers(route))
            self._client_streams[route.target] = open_call
        relay = _Relay(requests)
        # The iterator form, not call.write(): the tracing interceptor waits for the call's
        # status before handing the call over, so a write would wait for good.
        call = open_call(
            relay.messages(), metadata=metadata, timeout=self._upload_deadline if timeout is None else timeout
        )
        try:
            reply: Message = await call
        except (asyncio.CancelledError, grpc.aio.AioRpcError) as error:
            cancelled = isinstance(error, asyncio.CancelledError) or error.code() is grpc.StatusCode.CANCELLED
            if relay.failure is not None and cancelled and not _cancelling():
                # grpc cancels the call when the client's stream fails: that failure is the answer.
                raise relay.failure from None
            raise
        finally:
            call.cancel()  # the client failed or went away: the service drops what it received
            await relay.stop()
        return reply

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

    def _client_stream_forwarder(
        self, route: Route
    ) -> Callable[[AsyncIterator[Message], RequestContext[Any, Any]], Awaitable[Message]]:
        async def forward(requests: AsyncIterator[Message], context: RequestContext[Any, Any]) -> Message:
            try:
                request_metadata = self.metadata(
                    await self._caller(route, context), context.request_headers.getall(IDEMPOTENCY_KEY)
                )
                return await self.relay_client_stream(
                    route, requests, request_metadata, self._timeout(context, self._upload_deadline)
                )
            except Exception as error:
                raise as_connect_error(error) from None

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


class _Relay:
    """A client's messages as grpc pulls them, in a task of its own: what failed on the
    client's side is kept, and the pulling can be stopped mid-read (grpc leaves it waiting
    for the client's next message when the call ends first)."""

    def __init__(self, requests: AsyncIterator[Message]) -> None:
        self._requests = requests
        self.failure: Exception | None = None
        self._reading: asyncio.Task[Any] | None = None  # the task waiting for a message
        self._idle = asyncio.Event()
        self._idle.set()

    async def messages(self) -> AsyncIterator[Message]:
        while True:
            self._reading = asyncio.current_task()
            self._idle.clear()
            try:
                request = await anext(self._requests)
            except StopAsyncIteration:
                return
            except Exception as error:
                self.failure = error
                raise
            finally:
                self._reading = None
                self._idle.set()
            yield request

    async def stop(self) -> None:
        """Read nothing more: once this returns, the HTTP layer alone reads the body (its
        drain), never two readers at once."""
        if self._reading is not None:
            self._reading.cancel()
            await self._idle.wait()


def _cancelling() -> bool:
    """Whether the running task is being cancelled (the client went away)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


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
