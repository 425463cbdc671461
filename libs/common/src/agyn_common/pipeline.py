"""What happens around every RPC: a span, the access check, and error mapping.

One interceptor wraps each handler so that the same steps run, in the same order, for
unary and server-streaming methods alike:
  1. a SERVER span named after the method, continuing the caller's trace;
  2. the access declaration (`AccessPolicy.check`);
  3. the handler; a `ServiceError` becomes its status with google.rpc details, anything
     else is logged and becomes INTERNAL "internal error" (never a stack trace).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from agyn_common.access import AccessPolicy
from agyn_common.errors import ServiceError

log = logging.getLogger(__name__)

STATUS_DETAILS_KEY = "grpc-status-details-bin"


def _carrier(metadata: Any) -> dict[str, str]:
    return {key: value for key, value in metadata or () if isinstance(value, str)}


class RpcPipeline(grpc.aio.ServerInterceptor):
    def __init__(self, policy: AccessPolicy, tracer: Tracer) -> None:
        self._policy = policy
        self._tracer = tracer

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
                    self._policy.check(method, context.invocation_metadata() or (), context.peer())
                    response = await behaviour(request, context)
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
                    self._policy.check(method, context.invocation_metadata() or (), context.peer())
                    async for response in behaviour(request, context):
                        yield response
                except Exception as error:
                    await self._fail(span, method, error, context)
                    raise
                span.set_attribute("rpc.grpc.status_code", grpc.StatusCode.OK.value[0])

        return server_stream

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
