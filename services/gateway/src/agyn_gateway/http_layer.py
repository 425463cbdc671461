"""The HTTP layer around the RPC handlers (gateway-auth-mesh §3.1, §3.10, §3.11; §8 #14).

Every response carries `x-request-id` (the client's, when it sent a sane one) and the CORS
headers; preflights are answered before authentication; `/api/...` is served like `/...`;
`GET /me` says who a credential is; `POST /files` uploads a file (`agyn_gateway.uploads`);
client streams are bounded per message, not as a whole; gRPC-Web's text mode (base64, what
the grpc-web JavaScript client sends by default) is decoded here into binary gRPC-Web for
connectrpc.

A method the Gateway does not serve is answered as each protocol's servers answer it:
UNIMPLEMENTED naming the method, in an HTTP 200 with `grpc-status: 12` in gRPC (in the
trailers) and gRPC-Web (trailers-only), HTTP 404 with the Connect error body in Connect
(connectrpc would answer a bare 404). A client stream in gRPC-Web (which browsers cannot send)
is UNIMPLEMENTED the same way, naming what to use instead.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import time
import urllib.parse
import uuid
from collections.abc import Collection
from http import HTTPStatus

from agyn_common.gate import CallGate
from agyn_common.http_serving import App, BodyStream, Message, Receive, Scope, Send
from connectrpc.code import Code
from connectrpc.errors import ConnectError

from agyn_gateway.auth import Authenticator
from agyn_gateway.measures import GatewayMeasures, protocol_of
from agyn_gateway.plain import caller_of, header, problem, send_json
from agyn_gateway.requests import RequestInfo, set_current_request
from agyn_gateway.uploads import UPLOADS_PATH, FileUploads

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = b"x-request-id"
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
CORS_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (
        b"access-control-expose-headers",
        b"Grpc-Status, Grpc-Message, Grpc-Status-Details-Bin, Connect-Content-Encoding, X-Request-Id",
    ),
]
PREFLIGHT_HEADERS = [
    (b"access-control-allow-methods", b"GET, POST, PATCH, DELETE, OPTIONS"),
    (b"access-control-max-age", b"7200"),
]
GRPC_WEB_TEXT = b"application/grpc-web-text"
GRPC_UNIMPLEMENTED = b"12"  # grpc-status of UNIMPLEMENTED


class GatewayHttp:
    def __init__(
        self,
        rpc: App,
        authenticator: Authenticator,
        *,
        served_paths: Collection[str],
        path_prefix: str,
        client_address_header: str | None,
        max_request_bytes: int,
        request_streams: Collection[str] = (),
        uploads: FileUploads | None = None,
        measures: GatewayMeasures | None = None,
    ) -> None:
        self._rpc = rpc
        self._served = frozenset(served_paths)  # /<service>/<method> of every endpoint
        # Paths of the client-streaming methods: their bodies are bounded per message.
        self._request_streams = frozenset(request_streams)
        self._uploads = uploads
        self._services = frozenset(path.rsplit("/", 1)[0] for path in self._served)
        self._max_request_bytes = max_request_bytes
        self._authenticator = authenticator
        self._prefix = path_prefix
        self._client_header = client_address_header.lower().encode() if client_address_header else None
        self._measures = measures
        self.open_calls = 0  # requests being served: a vanished client's must not stay counted
        self.gate = CallGate()  # the door requests pass; hypercorn waits for the running ones

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._rpc(scope, receive, send)  # lifespan; connectrpc refuses websockets
            return
        # While the Gateway stops taking requests a request waits here (see RunningGateway.stop).
        async with self.gate.call(counted=False):
            await self._serve(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.monotonic()
        scope = _readable(scope)
        given = header(scope, REQUEST_ID_HEADER)
        request_id = given if given and _SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex.encode()
        request = RequestInfo(request_id.decode(), self._client(scope))
        set_current_request(request)
        path = scope["path"]
        if self._prefix and (path == self._prefix or path.startswith(self._prefix + "/")):
            path = path[len(self._prefix) :] or "/"
            scope = {**scope, "path": path, "raw_path": path.encode()}
        # A stream of messages is bounded per message (connectrpc's limit) and an upload by
        # Files, which ends the call at the first byte past the declared size.
        streamed = path in self._request_streams or (self._uploads is not None and path == UPLOADS_PATH)
        body = _RequestBody(
            receive, request, _content_length(scope), None if streamed else self._max_request_bytes
        )
        status = 0
        trailers = False
        self.open_calls += 1

        async def send_with_headers(message: Message) -> None:
            nonlocal status, trailers
            if body.disconnected:
                # Nobody is left to read it, and hypercorn 0.18 would hold the call here for
                # good: once an HTTP/2 connection is closed (`H2Protocol.handle(Closed())`)
                # its streams' buffers are never emptied nor closed, so the answer's end
                # waits in `StreamBuffer.drain()` forever, and the connection with it.
                return
            if message["type"] == "http.response.start":
                status = message["status"]
                trailers = message.get("trailers", False)
                if request.too_large and status == HTTPStatus.TOO_MANY_REQUESTS:
                    # Connect's status of RESOURCE_EXHAUSTED is 429, which clients and
                    # proxies retry; a body too large fails again on every retry. The code
                    # stays resource_exhausted in the body, where Connect clients read it.
                    status = message["status"] = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
                message["headers"] = [
                    *message.get("headers", ()),
                    (REQUEST_ID_HEADER, request_id),
                    *CORS_HEADERS,
                ]
            if _ends_response(message, trailers):
                await body.drain()
            await send(message)

        try:
            if scope["method"] == "OPTIONS":
                await self._preflight(scope, send_with_headers)
            elif path == "/me":
                await self._me(scope, send_with_headers)
            elif path == UPLOADS_PATH and self._uploads is not None:
                await self._uploads(scope, body, send_with_headers)
            elif _is_grpc(header(scope, b"content-type")) and not _carries_trailers(scope):
                # connectrpc would answer grpc-status UNKNOWN, a server fault, to what is the
                # client's choice of transport (as grpc-go does, 400).
                await problem(
                    send_with_headers, 400, "gRPC needs HTTP/2; over HTTP/1.1 use Connect or gRPC-Web"
                )
            elif path not in self._served:
                await _unimplemented(scope, send_with_headers, self._unknown(path))
            elif path in self._request_streams and _is_grpc_web(header(scope, b"content-type")):
                await _unimplemented(scope, send_with_headers, self._not_for_grpc_web(path))
            elif (header(scope, b"content-type") or b"").startswith(GRPC_WEB_TEXT):
                await self._grpc_web_text(scope, body, send_with_headers)
            else:
                await self._rpc(scope, body, send_with_headers)
        finally:
            self.open_calls -= 1
            if self._measures is not None:
                protocol = protocol_of(scope["method"], header(scope, b"content-type"))
                self._measures.requests.labels(protocol, str(status)).inc()
            log.info(
                "%s %s %d %.1fms request_id=%s",
                scope["method"],
                path,
                status,
                (time.monotonic() - started) * 1000,
                request_id.decode(),
            )

    def _unknown(self, path: str) -> str:
        """What is unknown about `path` (as grpc-go words it), naming the method."""
        service, _, method = path.rpartition("/")
        if not service or not method:
            return f"unknown method {path}"
        if service in self._services:
            return f"unknown method {method} for service {service.lstrip('/')}"
        return f"unknown service {service.lstrip('/')} (method {method})"

    def _not_for_grpc_web(self, path: str) -> str:
        """Why a client stream is refused in gRPC-Web, and what to use instead."""
        instead = "Connect or gRPC"
        if self._uploads is not None and path in self._uploads.route.paths:
            instead = f"POST {UPLOADS_PATH}, {instead}"
        method = path.rsplit("/", 1)[-1]
        return f"{method} streams the request, which gRPC-Web cannot carry: use {instead}"

    def _client(self, scope: Scope) -> str:
        if self._client_header is not None:
            forwarded = header(scope, self._client_header)
            if forwarded:
                return forwarded.decode().split(",")[0].strip()
        client = scope.get("client")
        return str(client[0]) if client else "unknown"

    @staticmethod
    async def _preflight(scope: Scope, send: Send) -> None:
        requested = header(scope, b"access-control-request-headers") or b"*"
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [*PREFLIGHT_HEADERS, (b"access-control-allow-headers", requested)],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def _me(self, scope: Scope, send: Send) -> None:
        if scope["method"] != "GET":
            await problem(send, 405, "use GET")
            return
        principal = await caller_of(self._authenticator, scope, send)
        if principal is not None:
            await send_json(
                send,
                200,
                {"identity_id": str(principal.identity_id), "identity_type": principal.identity_type},
            )

    async def _grpc_web_text(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a base64 gRPC-Web request as binary gRPC-Web, and encode the answer back."""
        content_type = header(scope, b"content-type") or GRPC_WEB_TEXT
        binary_type = content_type.replace(b"grpc-web-text", b"grpc-web", 1)
        scope = {
            **scope,
            "headers": [
                (key, binary_type if key.lower() == b"content-type" else value)
                for key, value in scope.get("headers", ())
                if key.lower() != b"content-length"
            ],
        }
        pending_text = b""

        async def receive_decoded() -> Message:
            nonlocal pending_text
            message = await receive()
            if message["type"] != "http.request":
                return message
            pending_text += b"".join(message.get("body", b"").split())
            more = message.get("more_body", False)
            usable = len(pending_text) if not more else len(pending_text) - len(pending_text) % 4
            chunk, pending_text = pending_text[:usable], pending_text[usable:]
            try:
                body = _b64decode(chunk)
            except (binascii.Error, ValueError):
                raise ConnectError(Code.INVALID_ARGUMENT, "the request body is not base64") from None
            return {**message, "body": body}

        async def send_encoded(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (key, content_type if key.lower() == b"content-type" else value)
                    for key, value in message.get("headers", ())
                    if key.lower() != b"content-length"
                ]
            elif message["type"] == "http.response.body":
                # Each piece (a whole frame) in base64 of its own, padded, as Envoy's gRPC-Web
                # filter writes it and grpc-web clients read it (in quanta of 4): holding back
                # the bytes past a multiple of 3 would keep a stream's message from its client
                # until the next one.
                message = {**message, "body": base64.b64encode(message.get("body", b""))}
            await send(message)

        await self._rpc(scope, receive_decoded, send_encoded)


class _RequestBody(BodyStream):
    """The request's receive(): the body bounded before it is buffered (unless it is bounded
    per message: `max_bytes` None), and whatever the application left unread drained before
    the answer ends.

    hypercorn 0.18 forgets an HTTP/2 stream once its answer is complete, and a DATA frame
    that arrives for it afterwards raises KeyError in `H2Protocol._handle_events`
    (`self.streams[event.stream_id]`, unguarded unlike StreamEnded), which drops the whole
    connection with every other call on it. HTTP/1.1 cannot reuse a connection whose request
    was not read to its end either. So no answer ends before its request has.
    """

    def __init__(
        self, receive: Receive, request: RequestInfo, declared: int | None, max_bytes: int | None
    ) -> None:
        super().__init__(receive)
        self._request = request
        self._declared = declared  # Content-Length, when sent
        self._max_bytes = max_bytes
        self._read = 0

    async def __call__(self) -> Message:
        if self._max_bytes is None:
            return await self._next()
        if self._declared is not None and self._declared > self._max_bytes:
            raise self._too_large()  # refused before a byte of it is read
        message = await self._next()
        self._read += len(message.get("body", b""))
        if self._read > self._max_bytes:
            raise self._too_large()
        return message

    def _too_large(self) -> ConnectError:
        self._request.too_large = True
        return ConnectError(
            Code.RESOURCE_EXHAUSTED, f"the request body is larger than {self._max_bytes} bytes"
        )


def _ends_response(message: Message, trailers: bool) -> bool:
    if message["type"] == "http.response.body":
        return not trailers and not message.get("more_body", False)
    return message["type"] == "http.response.trailers" and not message.get("more_trailers", False)


def _content_length(scope: Scope) -> int | None:
    declared = header(scope, b"content-length")
    return int(declared) if declared is not None and declared.isdigit() else None


def _utf8(raw: bytes) -> bytes:
    """`raw` when it is UTF-8; otherwise its bytes read as ISO-8859-1 (HTTP's historical
    charset for field values), written as UTF-8. connectrpc decodes every header and the query
    as UTF-8 and answers a failure with 500 and the exception's text; this way a field that is
    not UTF-8 reaches the checks of its meaning instead (a malformed credential, timeout, ...)."""
    try:
        raw.decode()
    except UnicodeDecodeError:
        return raw.decode("latin-1").encode()
    return raw


def _readable(scope: Scope) -> Scope:
    """`scope` with every header name and value, and the query, in UTF-8."""
    return {
        **scope,
        "headers": [(_utf8(bytes(key)), _utf8(bytes(value))) for key, value in scope.get("headers", ())],
        "query_string": _utf8(bytes(scope.get("query_string", b""))),
    }


def _b64decode(text: bytes) -> bytes:
    """Base64 that may be several padded pieces one after another (one per client write)."""
    if b"=" not in text.rstrip(b"="):
        return base64.b64decode(text, validate=True)
    return b"".join(base64.b64decode(text[i : i + 4], validate=True) for i in range(0, len(text), 4))


def _is_grpc_web(content_type: bytes | None) -> bool:
    """gRPC-Web, binary or text."""
    return (content_type or b"").lower().startswith(b"application/grpc-web")


def _is_grpc(content_type: bytes | None) -> bool:
    """gRPC proper (`application/grpc`, `application/grpc+proto`, ...), not gRPC-Web."""
    media_type = (content_type or b"").split(b";")[0].strip().lower()
    return media_type == b"application/grpc" or media_type.startswith(b"application/grpc+")


async def _unimplemented(scope: Scope, send: Send, message: str) -> None:
    """UNIMPLEMENTED for a method not served, in the protocol the client speaks."""
    content_type = header(scope, b"content-type") or b""
    status = [
        (b"grpc-status", GRPC_UNIMPLEMENTED),
        (b"grpc-message", urllib.parse.quote(message, safe="").encode()),
    ]
    if _is_grpc(content_type):
        # An HTTP 200 without a message, the status in its trailers. (A gRPC server would send
        # it trailers-only, in one HEADERS frame ending the stream, which hypercorn cannot
        # write: it ends a stream with a DATA frame, so the status would be lost.)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", content_type)],
                "trailers": True,
            }
        )
        await send({"type": "http.response.body", "body": b""})
        await send({"type": "http.response.trailers", "headers": status})
        return
    if _is_grpc_web(content_type):
        # Trailers-only: the status in the headers of an empty HTTP 200, where gRPC-Web
        # clients read it when there is no trailer frame.
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", content_type), *status],
            }
        )
        await send({"type": "http.response.body", "body": b""})
        return
    # Connect: 404 (what an unknown route is), with the error body Connect clients read.
    await send_json(send, HTTPStatus.NOT_FOUND, {"code": Code.UNIMPLEMENTED.value, "message": message})


def _carries_trailers(scope: Scope) -> bool:
    """Whether the connection can send HTTP trailers, where gRPC puts its status: HTTP/2 only."""
    return "http.response.trailers" in scope.get("extensions", {})
