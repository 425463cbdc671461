"""Plain-HTTP endpoints beside the RPCs (`GET /me`, `POST /files`): the ASGI types, JSON and
problem+json answers (RFC 9457), and the caller of a request (gateway-auth-mesh §3.9)."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

from agyn_common.errors import ServiceError
from agyn_common.http_serving import Scope, Send

from agyn_gateway.auth import Authenticator, Principal
from agyn_gateway.requests import current_request

log = logging.getLogger(__name__)


# Plain-HTTP status of each gRPC code (§3.9, plain-HTTP endpoints); others 502.
PROBLEM_STATUS = {
    "INVALID_ARGUMENT": 400,
    "OUT_OF_RANGE": 400,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "FAILED_PRECONDITION": 412,
    "RESOURCE_EXHAUSTED": 429,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


async def send_json(send: Send, status: int, body: object, content_type: bytes = b"application/json") -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def problem(send: Send, status: int, detail: str) -> None:
    await send_json(
        send,
        status,
        {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail},
        b"application/problem+json",
    )


async def caller_of(authenticator: Authenticator, scope: Scope, send: Send) -> Principal | None:
    """The caller named by the request's Authorization header; None once a refusal is answered."""
    try:
        principal = await authenticator.authenticate(
            (header(scope, b"authorization") or b"").decode() or None, current_request().client
        )
    except ServiceError as error:
        await problem(send, PROBLEM_STATUS.get(error.code.name, 502), error.message)
        return None
    except Exception:
        log.exception("resolving the caller failed")
        await problem(send, 502, "the identity could not be resolved")
        return None
    if principal is None:
        await problem(send, 401, "identity not available")
    return principal
