"""Service errors with google.rpc details.

Handlers raise `ServiceError`; the server pipeline turns it into a gRPC status whose
`grpc-status-details-bin` trailer carries the details (BadRequest, ErrorInfo), so a
client sees which field was wrong or which dependency is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
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


def dependency_unavailable(dependency: str, error: grpc.aio.AioRpcError) -> ServiceError:
    """Another service could not answer: UNAVAILABLE naming it, so the caller may retry."""
    return ServiceError(
        grpc.StatusCode.UNAVAILABLE,
        f"{dependency} is unavailable: {error.code().name}",
        [error_info("DEPENDENCY_UNAVAILABLE", {"dependency": dependency})],
    )


def database_unavailable() -> ServiceError:
    """The service's own database cannot be reached: UNAVAILABLE, so the caller may retry."""
    return ServiceError(
        grpc.StatusCode.UNAVAILABLE,
        "database unavailable",
        [error_info("DEPENDENCY_UNAVAILABLE", {"dependency": "database"})],
    )
