"""The Gateway's own numbers (its README lists them), next to the RPC figures every service
has: what it answers, whom it refuses, and the streams it relays."""

from __future__ import annotations

from agyn_common.metrics import Metrics

GRPC_WEB = b"application/grpc-web"
GRPC = b"application/grpc"


def protocol_of(method: str, content_type: bytes | None) -> str:
    """The protocol of a request, as its label: grpc, grpc-web, connect, or http (the rest:
    `/me`, CORS preflights, what no RPC protocol sends)."""
    content_type = content_type or b""
    if content_type.startswith(GRPC_WEB):
        return "grpc-web"
    if content_type.startswith(GRPC):
        return "grpc"
    if method in ("POST", "GET") and (
        content_type.startswith((b"application/json", b"application/proto"))
        or content_type.startswith(b"application/connect+")
    ):
        return "connect"
    return "http"


class GatewayMeasures:
    def __init__(self, metrics: Metrics) -> None:
        self.requests = metrics.counter(
            "agyn_gateway_requests_total",
            "Requests answered, by protocol and HTTP status.",
            ["protocol", "status"],
        )
        self.authentication_failures = metrics.counter(
            "agyn_gateway_authentication_failures_total",
            "Credentials refused, by kind: api_token, workload_credential, jwt, malformed.",
            ["credential"],
        )
        self.open_streams = metrics.gauge("agyn_gateway_open_streams", "Server streams being relayed.")
