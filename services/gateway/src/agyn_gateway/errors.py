"""gRPC statuses as Connect errors, details kept (gateway-auth-mesh §3.9).

connectrpc writes a ConnectError in each protocol's own way: the HTTP status of §3.9 and a
JSON body for Connect unary, the end-of-stream frame for Connect streams, `grpc-status` /
`grpc-message` / `grpc-status-details-bin` trailers for gRPC and gRPC-Web.
"""

from __future__ import annotations

import logging

import grpc
from agyn_common.errors import ServiceError
from connectrpc.code import Code
from connectrpc.errors import ConnectError, ErrorDetail
from google.rpc import status_pb2
from protobuf.wkt import Any as WireAny

log = logging.getLogger(__name__)

DETAILS_KEY = "grpc-status-details-bin"


def connect_code(code: grpc.StatusCode) -> Code:
    if code is grpc.StatusCode.CANCELLED:
        return Code.CANCELED
    if code is grpc.StatusCode.OK:
        return Code.INTERNAL  # an error with status OK is a broken dependency
    return Code[code.name]


def _details(trailers: grpc.aio.Metadata | None) -> list[ErrorDetail]:
    raw = trailers.get(DETAILS_KEY) if trailers is not None else None
    if not isinstance(raw, bytes):
        return []
    try:
        status = status_pb2.Status.FromString(raw)
    except Exception:
        return []
    return _wire_details(status)


def _wire_details(status: status_pb2.Status) -> list[ErrorDetail]:
    """google.rpc details (google.protobuf Any) as connectrpc's error details."""
    return [ErrorDetail(WireAny(type_url=item.type_url, value=item.value)) for item in status.details]


def from_downstream(error: grpc.aio.AioRpcError) -> ConnectError:
    """The internal service's status, as the client will see it."""
    message = (error.details() or "").strip() or error.code().name
    return ConnectError(connect_code(error.code()), message, _details(error.trailing_metadata()))


def from_service_error(error: ServiceError) -> ConnectError:
    return ConnectError(connect_code(error.code), error.message, _wire_details(error.to_status()))


def as_connect_error(error: Exception) -> ConnectError:
    """Every failure of a forwarded call becomes a status; nothing else reaches the client."""
    if isinstance(error, ConnectError):
        return error
    if isinstance(error, grpc.aio.AioRpcError):
        return from_downstream(error)
    if isinstance(error, ServiceError):
        return from_service_error(error)
    log.exception("forwarding failed", exc_info=error)
    return ConnectError(Code.INTERNAL, "internal error")
