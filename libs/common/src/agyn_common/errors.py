"""Service errors with google.rpc details.

Handlers raise `ServiceError`; the server pipeline turns it into a gRPC status whose
`grpc-status-details-bin` trailer carries the details (BadRequest, ErrorInfo), so a
client sees which field was wrong or which dependency is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import DecodeError, Message
from google.rpc import error_details_pb2, status_pb2

ERROR_DOMAIN = "agyn.io"


class ServiceError(Exception):
    """An expected failure with its gRPC code; the message is shown to the caller."""

    def __init__(self, code: grpc.StatusCode, message: str, details: Sequence[Message] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = tuple(details)

    def to_status(self) -> status_pb2.Status:
        packed = []
        for detail in self.details:
            if isinstance(detail, any_pb2.Any):  # passed on as another service packed it
                packed.append(detail)
                continue
            holder = any_pb2.Any()
            holder.Pack(detail)
            packed.append(holder)
        return status_pb2.Status(code=self.code.value[0], message=self.message, details=packed)


def invalid_argument(field: str, description: str) -> ServiceError:
    """Bad input in one field; the message and the BadRequest detail both name it."""
    violation = error_details_pb2.BadRequest.FieldViolation(field=field, description=description)
    return ServiceError(
        grpc.StatusCode.INVALID_ARGUMENT,
        f"{field}: {description}",
        [error_details_pb2.BadRequest(field_violations=[violation])],
    )


def error_info(reason: str, metadata: Mapping[str, str] | None = None) -> error_details_pb2.ErrorInfo:
    return error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN, metadata=dict(metadata or {}))


def not_found(message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.NOT_FOUND, message)


def already_exists(message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.ALREADY_EXISTS, message)


def permission_denied(message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.PERMISSION_DENIED, message)


def unauthenticated(message: str = "identity not available") -> ServiceError:
    return ServiceError(grpc.StatusCode.UNAUTHENTICATED, message)


def failed_precondition(message: str, reason: str, **metadata: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.FAILED_PRECONDITION, message, [error_info(reason, metadata)])


def internal(message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.INTERNAL, message)


def resource_exhausted(message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.RESOURCE_EXHAUSTED, message)


def unavailable(message: str) -> ServiceError:
    """This service cannot go on with the call (it stops, or lost what feeds it): retry."""
    return ServiceError(grpc.StatusCode.UNAVAILABLE, message)


def dependency_unavailable(dependency: str, error: grpc.aio.AioRpcError) -> ServiceError:
    """Another service could not answer: UNAVAILABLE naming it, so the caller may retry."""
    return ServiceError(
        grpc.StatusCode.UNAVAILABLE,
        f"{dependency} is unavailable: {error.code().name}",
        [error_info("DEPENDENCY_UNAVAILABLE", {"dependency": dependency})],
    )


# What a service decides about a request it was sent; the other codes say it could not answer.
DECIDED = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)
STATUS_DETAILS_KEY = "grpc-status-details-bin"


def passed_on(dependency: str, error: grpc.aio.AioRpcError) -> ServiceError:
    """The answer of a service called for the caller, for the caller: its decisions come back
    unchanged (code, message and google.rpc details, which clients may match on); anything
    else is UNAVAILABLE naming it."""
    if error.code() not in DECIDED:
        return dependency_unavailable(dependency, error)
    details: Sequence[Message] = ()
    raw = (error.trailing_metadata() or {}).get(STATUS_DETAILS_KEY)
    if isinstance(raw, bytes):
        try:
            details = tuple(status_pb2.Status.FromString(raw).details)
        except DecodeError:
            details = ()  # a status without readable details is still the status
    return ServiceError(error.code(), error.details() or error.code().name, details)


def database_unavailable() -> ServiceError:
    """The service's own database cannot be reached: UNAVAILABLE, so the caller may retry."""
    return ServiceError(
        grpc.StatusCode.UNAVAILABLE,
        "database unavailable",
        [error_info("DEPENDENCY_UNAVAILABLE", {"dependency": "database"})],
    )
