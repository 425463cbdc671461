"""What happens around every RPC: a span, the method table, request checks, error mapping.

One interceptor wraps each handler so that the same steps run, in the same order, for
every kind of method alike:
  1. a SERVER span named after the method, continuing the caller's trace;
  2. the call passes the server's door (`agyn_common.gate`): it is counted, so that the stop
     can wait for it, and while the stop sends the GOAWAY it waits at the door instead of
     running (no call is refused, none is lost);
  3. the method table's access rule (`AccessPolicy.check`), then the caller is made current
     (`agyn_common.caller.current_caller`);
  4. the request's checks (`agyn_common.request_checks`): bytes that do not decode, a NUL in
     a string or a timestamp out of range are INVALID_ARGUMENT naming the field (a client
     stream's messages each, as the handler reads them);
  5. the handler, once per `idempotency-key` where the table marks the method idempotent;
     a `ServiceError` becomes its status with google.rpc details, a database that cannot be
     reached becomes UNAVAILABLE "database unavailable" (retryable), anything else is logged
     and becomes INTERNAL "internal error" (never a stack trace). A call whose client
     cancels it (or whose deadline passes) is cancelled where it waits: its transaction rolls
     back (`agyn_common.db`), it is logged at INFO as cancelled by the client, not as an error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import psycopg
import sqlalchemy.exc
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from agyn_common.access import AccessPolicy, calling_workload, is_open_method
from agyn_common.caller import current_caller, serve_as
from agyn_common.errors import STATUS_DETAILS_KEY, ServiceError, database_unavailable, invalid_argument
from agyn_common.gate import CallGate
from agyn_common.idempotency import Idempotency, idempotency_key
from agyn_common.metrics import RpcOutcomes
from agyn_common.request_checks import check_request

log = logging.getLogger(__name__)

# Errors of the database connection, not of the statement: the database is away, restarting
# or refusing connections, or the pool has none to give. The caller may retry them.
DATABASE_AWAY = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection came free in time
    psycopg.OperationalError,
    psycopg.InterfaceError,
    ConnectionError,  # refused or reset while connecting
)


class Undecodable:
    """What the request deserializer gives for bytes that are not the request message, so that
    the pipeline answers INVALID_ARGUMENT instead of grpcio's UNKNOWN."""


UNDECODABLE = Undecodable()


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except DecodeError:
            return UNDECODABLE

    return deserialize


def _checking_each(behaviour: Callable[..., Any]) -> Callable[..., Any]:
    """A client-streaming handler that reads its messages through step 4's checks: a message
    that fails them ends the call with INVALID_ARGUMENT where the handler reads it."""

    async def checked(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for request in requests:
            if request is UNDECODABLE:
                raise invalid_argument("request", "cannot be decoded")
            check_request(request)
            yield request

    return lambda requests, context: behaviour(checked(requests), context)


def database_away(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from, says the database cannot be reached."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, DATABASE_AWAY):
            return True
        if isinstance(cause, sqlalchemy.exc.DBAPIError) and cause.connection_invalidated:
            return True
        cause = cause.__cause__
    return False


_CODES = {code.value[0]: code for code in grpc.StatusCode}


def _status_code(code: Any) -> grpc.StatusCode:
    """The status a handler set with `context.abort` (grpcio keeps the enum or its number)."""
    if isinstance(code, grpc.StatusCode):
        return code
    return _CODES.get(code, grpc.StatusCode.UNKNOWN)


def _carrier(metadata: Any) -> dict[str, str]:
    return {key: value for key, value in metadata or () if isinstance(value, str)}


def _unary_response_type(method_path: str) -> type[Message]:
    """The response class of an idempotent method; only unary methods can replay a response."""
    service, _, name = method_path.lstrip("/").partition("/")
    try:
        method = descriptor_pool.Default().FindServiceByName(service).methods_by_name[name]
    except KeyError:
        raise ValueError(f"{method_path} is not a method of a generated service") from None
    if method.client_streaming or method.server_streaming:
        raise ValueError(f"{method_path} streams: it cannot be idempotent")
    return message_factory.GetMessageClass(method.output_type)


class RpcPipeline(grpc.aio.ServerInterceptor):
    def __init__(
        self,
        policy: AccessPolicy,
        tracer: Tracer,
        idempotency: Idempotency | None = None,
        outcomes: RpcOutcomes | None = None,
    ) -> None:
        self._policy = policy
        self._tracer = tracer
        self._outcomes = outcomes
        self._idempotency = idempotency
        self._response_types = {path: _unary_response_type(path) for path in policy.declaration.idempotent}
        if self._response_types and idempotency is None:
            raise ValueError("idempotent methods need the service's database")
        # Every call passes it; the service's own methods are counted (the open ones, health
        # and reflection, include endless streams: the stop does not wait for them).
        self.gate = CallGate()
        self.grace_over = False  # set by the stop once the calls still running get cancelled
        # Each method's handler is wrapped once, on its first call: the server's handlers are
        # fixed when it starts.
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method: str = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        wrapped = self._wrap(method, handler)
        self._wrapped[method] = wrapped
        return wrapped

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(method, handler.unary_unary),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_server_stream(method, handler.unary_stream),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        # Client streams get each message checked as the handler reads it.
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_unary(method, _checking_each(handler.stream_unary)),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        return grpc.stream_stream_rpc_method_handler(
            self._wrap_server_stream(method, _checking_each(handler.stream_stream)),
            request_deserializer=_tolerant(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )

    # --- one call -------------------------------------------------------------------------------

    def _start_span(self, method: str, context: grpc.aio.ServicerContext) -> Any:
        service, _, name = method.lstrip("/").partition("/")
        return self._tracer.start_as_current_span(
            method.lstrip("/"),
            kind=SpanKind.SERVER,
            context=propagate.extract(_carrier(context.invocation_metadata())),
            attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": name},
            record_exception=False,
            set_status_on_exception=False,
        )

    def _wrap_unary(self, method: str, behaviour: Callable[..., Any]) -> Callable[..., Any]:
        async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            with self._start_span(method, context) as span:
                try:
                    async with self.gate.call(counted=not is_open_method(method)):
                        self._admit(method, request, context)
                        response = await self._once_per_key(method, behaviour, request, context)
                except asyncio.CancelledError:
                    self._ended(span, method, started, self._cancelled(method, context))
                    raise
                except Exception as error:
                    await self._fail(span, method, started, error, context)
                    raise  # unreachable: _fail aborts
                self._ended(span, method, started, grpc.StatusCode.OK)
                return response

        return unary

    def _wrap_server_stream(self, method: str, behaviour: Callable[..., Any]) -> Callable[..., Any]:
        async def server_stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            started = time.perf_counter()
            with self._start_span(method, context) as span:
                try:
                    async with self.gate.call(counted=not is_open_method(method)):
                        self._admit(method, request, context)
                        async for response in behaviour(request, context):
                            yield response
                except asyncio.CancelledError:
                    self._ended(span, method, started, self._cancelled(method, context))
                    raise
                except Exception as error:
                    await self._fail(span, method, started, error, context)
                    raise
                self._ended(span, method, started, grpc.StatusCode.OK)

        return server_stream

    def _admit(self, method: str, request: Any, context: grpc.aio.ServicerContext) -> None:
        metadata = context.invocation_metadata() or ()
        self._policy.check(method, metadata, context.peer())
        serve_as(metadata)
        if request is UNDECODABLE:
            raise invalid_argument("request", "cannot be decoded")
        if isinstance(request, Message):
            check_request(request)

    async def _once_per_key(
        self, method: str, behaviour: Callable[..., Any], request: Any, context: grpc.aio.ServicerContext
    ) -> Any:
        response_type = self._response_types.get(method)
        key = idempotency_key(context.invocation_metadata()) if response_type is not None else None
        if key is None or response_type is None or self._idempotency is None:
            return await behaviour(request, context)
        # Scoped to the end user, or to the calling workload when it acts on its own authority.
        identity = current_caller().identity_id
        scope = str(identity) if identity is not None else f"workload:{calling_workload()}"
        return await self._idempotency.run(
            key=key,
            caller=scope,
            method=method,
            request=request,
            response_type=response_type,
            work=lambda: behaviour(request, context),
        )

    def _ended(self, span: Span, method: str, started: float, code: grpc.StatusCode) -> None:
        """The call's outcome, on its span and in the RPC metrics."""
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        if self._outcomes is not None:
            self._outcomes.observe(method, code.value[0], (time.perf_counter() - started) * 1000)

    def _cancelled(self, method: str, context: grpc.aio.ServicerContext) -> grpc.StatusCode:
        """The call's task was cancelled: by its client (it cancelled, went away, or its deadline
        passed), or by the stop once the grace period is over. Nothing is answered; the
        transactions it was in roll back. The code it ends with."""
        remaining = context.time_remaining()
        if self.grace_over:
            code = grpc.StatusCode.CANCELLED
            log.warning("%s cancelled: the server's grace period is over", method)
        elif remaining is not None and remaining <= 0:
            code = grpc.StatusCode.DEADLINE_EXCEEDED
            log.info("%s cancelled by the client: its deadline passed", method)
        else:
            code = grpc.StatusCode.CANCELLED
            log.info("%s cancelled by the client", method)
        return code

    async def _fail(
        self, span: Span, method: str, started: float, error: Exception, context: grpc.aio.ServicerContext
    ) -> None:
        if isinstance(error, grpc.aio.AbortError):
            self._ended(span, method, started, _status_code(context.code()))
            raise error  # the handler already chose its status
        if not isinstance(error, ServiceError):
            span.record_exception(error)
            if database_away(error):
                log.warning("database unavailable in %s: %s", method, error)
                error = database_unavailable()
            elif isinstance(error, NotImplementedError):
                # The generated base class answers a method the service does not serve yet.
                error = ServiceError(grpc.StatusCode.UNIMPLEMENTED, "method not implemented")
            else:
                log.exception("unhandled error in %s", method)
                error = ServiceError(grpc.StatusCode.INTERNAL, "internal error")
        self._ended(span, method, started, error.code)
        if error.code in (
            grpc.StatusCode.INTERNAL,
            grpc.StatusCode.UNKNOWN,
            grpc.StatusCode.DATA_LOSS,
            grpc.StatusCode.UNAVAILABLE,
        ):
            span.set_status(Status(StatusCode.ERROR, error.message))
        trailing = ((STATUS_DETAILS_KEY, error.to_status().SerializeToString()),) if error.details else ()
        await context.abort(error.code, error.message, trailing_metadata=trailing)


def current_tracer(provider: trace.TracerProvider | None) -> Tracer:
    return (provider or trace.get_tracer_provider()).get_tracer("agyn_common.pipeline")
