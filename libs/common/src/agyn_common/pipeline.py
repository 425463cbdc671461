"""What happens around every RPC: a span, the method table, and error mapping.

One interceptor wraps each handler so that the same steps run, in the same order, for
unary and server-streaming methods alike:
  1. a SERVER span named after the method, continuing the caller's trace;
  2. the method table's access rule (`AccessPolicy.check`), then the caller is made current
     (`agyn_common.caller.current_caller`);
  3. the handler, once per `idempotency-key` where the table marks the method idempotent;
     a `ServiceError` becomes its status with google.rpc details, anything else is logged
     and becomes INTERNAL "internal error" (never a stack trace).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from agyn_common.access import AccessPolicy, calling_workload
from agyn_common.caller import current_caller, serve_as
from agyn_common.errors import ServiceError
from agyn_common.idempotency import Idempotency, idempotency_key

log = logging.getLogger(__name__)

STATUS_DETAILS_KEY = "grpc-status-details-bin"


def _carrier(metadata: Any) -> dict[str, str]:
    return {key: value for key, value in metadata or () if isinstance(value, str)}


def _unary_response_type(method_path: str) -> type[Message]:
    """The response class of an idempotent method; only unary methods can replay a response."""
    service, _, name = method_path.lstrip("/").partition("/")
    method = descriptor_pool.Default().FindServiceByName(service).methods_by_name[name]
    if method.client_streaming or method.server_streaming:
        raise ValueError(f"{method_path} streams: it cannot be idempotent")
    return message_factory.GetMessageClass(method.output_type)


class RpcPipeline(grpc.aio.ServerInterceptor):
    def __init__(self, policy: AccessPolicy, tracer: Tracer, idempotency: Idempotency | None = None) -> None:
        self._policy = policy
        self._tracer = tracer
        self._idempotency = idempotency
        self._response_types = {path: _unary_response_type(path) for path in policy.declaration.idempotent}
        if self._response_types and idempotency is None:
            raise ValueError("idempotent methods need the service's database")

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_server_stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_unary(method, handler.stream_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return grpc.stream_stream_rpc_method_handler(
            self._wrap_server_stream(method, handler.stream_stream),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

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
            with self._start_span(method, context) as span:
                try:
                    self._admit(method, context)
                    response = await self._once_per_key(method, behaviour, request, context)
                except Exception as error:
                    await self._fail(span, method, error, context)
                    raise  # unreachable: _fail aborts
                span.set_attribute("rpc.grpc.status_code", grpc.StatusCode.OK.value[0])
                return response

        return unary

    def _wrap_server_stream(self, method: str, behaviour: Callable[..., Any]) -> Callable[..., Any]:
        async def server_stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            with self._start_span(method, context) as span:
                try:
                    self._admit(method, context)
                    async for response in behaviour(request, context):
                        yield response
                except Exception as error:
                    await self._fail(span, method, error, context)
                    raise
                span.set_attribute("rpc.grpc.status_code", grpc.StatusCode.OK.value[0])

        return server_stream

    def _admit(self, method: str, context: grpc.aio.ServicerContext) -> None:
        metadata = context.invocation_metadata() or ()
        self._policy.check(method, metadata, context.peer())
        serve_as(metadata)

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

    async def _fail(
        self, span: Span, method: str, error: Exception, context: grpc.aio.ServicerContext
    ) -> None:
        if isinstance(error, grpc.aio.AbortError):
            raise error  # the handler already chose its status
        if not isinstance(error, ServiceError):
            log.exception("unhandled error in %s", method)
            span.record_exception(error)
            error = ServiceError(grpc.StatusCode.INTERNAL, "internal error")
        span.set_attribute("rpc.grpc.status_code", error.code.value[0])
        if error.code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS):
            span.set_status(Status(StatusCode.ERROR, error.message))
        trailing = ((STATUS_DETAILS_KEY, error.to_status().SerializeToString()),) if error.details else ()
        await context.abort(error.code, error.message, trailing_metadata=trailing)


def current_tracer(provider: trace.TracerProvider | None) -> Tracer:
    return (provider or trace.get_tracer_provider()).get_tracer("agyn_common.pipeline")
