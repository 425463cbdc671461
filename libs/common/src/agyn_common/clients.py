"""Channels to other services: every unary call gets a deadline, says who calls without a mesh,
and continues the current trace (a CLIENT span, `traceparent` in the metadata: DESIGN §6).

Streams get no default deadline: a relayed stream (the Gateway's Subscribe) is meant to stay
open, and an upload lasts as long as its bytes take; its caller sets one when it wants one.

In mesh mode the sidecar's client certificate names the calling workload; in local mode
(`make up`) and network mode the `x-agyn-caller` header does (see `agyn_common.access`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors
from opentelemetry.trace import TracerProvider

from agyn_common.access import LOCAL_CALLER_KEY, AccessMode

DEFAULT_DEADLINE_SECONDS = 5.0


class _CallDetails:
    def __init__(self, extra_metadata: tuple[tuple[str, str], ...], deadline: float | None) -> None:
        self._extra = extra_metadata
        self._deadline = deadline

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = [*(details.metadata or ()), *self._extra]
        return grpc.aio.ClientCallDetails(
            method=details.method,
            timeout=self._deadline if details.timeout is None else details.timeout,
            metadata=grpc.aio.Metadata(*metadata),
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )


# Two classes, not one with both bases: grpc.aio files an interceptor under its first
# matching kind only, so one class would never see the streams. (The OpenTelemetry
# interceptors are one class per kind too.)
class _UnaryInterceptor(_CallDetails, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        return await continuation(self._details(client_call_details), request)


class _StreamInterceptor(_CallDetails, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        return await continuation(self._details(client_call_details), request)


class _ClientStreamInterceptor(_CallDetails, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(
        self,
        continuation: Callable[..., Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request_iterator: Any,
    ) -> Any:
        return await continuation(self._details(client_call_details), request_iterator)


class ServiceChannels:
    """One channel per address, opened on first use and closed with the service."""

    def __init__(
        self,
        caller: str,
        mode: AccessMode,
        *,
        default_deadline: float = DEFAULT_DEADLINE_SECONDS,
        tracer_provider: TracerProvider | None = None,  # None: the process's
    ) -> None:
        extra = () if mode is AccessMode.MESH else ((LOCAL_CALLER_KEY, caller),)
        self._interceptors: list[Any] = [
            *aio_client_interceptors(tracer_provider=tracer_provider),
            _UnaryInterceptor(extra, default_deadline),
            _StreamInterceptor(extra, None),
            _ClientStreamInterceptor(extra, None),  # an upload's caller sets its deadline
        ]
        self._channels: dict[str, grpc.aio.Channel] = {}

    def channel(self, address: str) -> grpc.aio.Channel:
        if address not in self._channels:
            self._channels[address] = grpc.aio.insecure_channel(address, interceptors=self._interceptors)
        return self._channels[address]

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
