"""Facts about the HTTP request being served, set by the outer layer for the RPC handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class RequestInfo:
    request_id: str
    client: str  # the client's address: the key of its anonymous-request budget
    # Set when the request was refused for its size, so that Connect answers 413, not 429.
    too_large: bool = False
    # Sends a server stream's response headers now, ahead of its first message (set by the
    # RPC layer for streams; a no-op once they are out).
    send_stream_headers: Callable[[], Awaitable[None]] | None = None

    async def accept_stream(self) -> None:
        """The stream is accepted: its client gets the response headers now."""
        if self.send_stream_headers is not None:
            await self.send_stream_headers()


_current: ContextVar[RequestInfo] = ContextVar("gateway_request")


def current_request() -> RequestInfo:
    return _current.get(RequestInfo(request_id="", client="unknown"))


def set_current_request(info: RequestInfo) -> None:
    _current.set(info)  # each request is served in its own task: this never leaks
