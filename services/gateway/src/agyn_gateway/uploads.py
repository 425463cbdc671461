"""`POST /files`: a browser's upload, `multipart/form-data` with its file in the part named
`file`, relayed as FilesService.UploadFile (files sheet A.3 "Gateway", A.8-3).

Browsers cannot send a client stream, so the Gateway makes one: the metadata first (the part's
filename and Content-Type), then the part's bytes in 64 KiB chunks as they arrive. The body
is read incrementally and never held whole. UploadFile needs the size up front: the part's own
Content-Length when it has one, else what the request's Content-Length leaves once the bytes
before the file and the closing `CRLF --boundary-- CRLF` are taken off (the file must be the
last part, as curl, browsers, httpx, requests and Go write it); a size that turns out wrong
is refused by Files. The answer is 201 with the FileInfo in proto3 JSON, or a problem+json.
"""

from __future__ import annotations

import email.message
import email.utils
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from agyn_common.http_serving import Receive, Scope, Send
from agynio.api.files.v1 import files_pb2 as pb
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from google.protobuf import json_format

from agyn_gateway.auth import Authenticator
from agyn_gateway.errors import as_connect_error
from agyn_gateway.forwarding import Forwarder
from agyn_gateway.plain import PROBLEM_STATUS, caller_of, header, problem, send_json
from agyn_gateway.routes import Route

UPLOADS_PATH = "/files"
UPLOAD_TARGET = "/agynio.api.files.v1.FilesService/UploadFile"
FILE_PART = "file"
CHUNK_BYTES = 64 * 2**10  # what UploadFile's clients send (files sheet A.3)
DEFAULT_CONTENT_TYPE = "application/octet-stream"
MAX_PART_HEAD_BYTES = 16 * 2**10  # a part's headers, and its delimiter line
# Files' own refusals, as plain HTTP (files sheet A.3): a file too large is 413, a store failure 502.
UPLOAD_STATUS = {**PROBLEM_STATUS, "RESOURCE_EXHAUSTED": 413, "INTERNAL": 502}


class Refused(Exception):
    """The Gateway itself refuses the request (its body is not one it can relay) with this status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Part:
    headers: dict[str, str]  # names in lower case
    start: int  # where its content starts in the request body

    @property
    def name(self) -> str | None:
        name = self._disposition().get_param("name", header="content-disposition")
        return None if name is None else email.utils.collapse_rfc2231_value(name)

    @property
    def filename(self) -> str:
        return self._disposition().get_filename() or ""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").strip() or DEFAULT_CONTENT_TYPE

    @property
    def size(self) -> int | None:
        declared = self.headers.get("content-length")
        if declared is None:
            return None
        if not declared.strip().isdigit():
            raise Refused(400, f"the {FILE_PART} part's Content-Length is not a number")
        return int(declared)

    def _disposition(self) -> email.message.Message:
        # The standard library reads quoted values and RFC 2231 `filename*=`.
        parsed = email.message.Message()
        parsed["content-disposition"] = self.headers.get("content-disposition", "")
        return parsed


class MultipartReader:
    """A multipart body (RFC 7578, RFC 2046 §5.1) read as it arrives: parts one after another,
    each part's content handed on in pieces, never held whole."""

    def __init__(self, chunks: AsyncIterator[bytes], boundary: bytes) -> None:
        self._chunks = chunks
        self._delimiter = b"\r\n--" + boundary
        # The first delimiter has no line break before it: one is made up, ahead of the body.
        self._buffer = bytearray(b"\r\n")
        self._offset = -2  # where the buffer starts in the body
        self._in_content = True  # the preamble counts as content: it is skipped like one

    @property
    def closing_bytes(self) -> int:
        """The length of `CRLF --boundary-- CRLF`, which ends the body."""
        return len(self._delimiter) + 4

    async def next_part(self, skip_limit: int) -> Part | None:
        """The next part's headers, skipping what is left of the current content (at most
        `skip_limit` bytes); None after the closing delimiter."""
        if self._in_content:
            skipped = 0
            async for piece in self.content():
                skipped += len(piece)
                if skipped > skip_limit:
                    raise Refused(
                        413, f"the parts before the {FILE_PART} part are larger than {skip_limit} bytes"
                    )
        while len(self._buffer) < 2:
            if not await self._fill():
                raise Refused(400, "the multipart body ends early")
        if self._buffer.startswith(b"--"):
            return None  # the closing delimiter
        # The rest of the delimiter's line (transport padding), then the headers, then a blank line.
        padding, *lines = (await self._until(b"\r\n\r\n")).split(b"\r\n")
        if padding.strip(b" \t"):
            raise Refused(400, "a boundary line of the multipart body is malformed")
        headers: dict[str, str] = {}
        for line in lines:
            name, colon, value = line.partition(b":")
            if not colon or not name.strip():
                raise Refused(400, "a part header of the multipart body is malformed")
            headers[name.strip().lower().decode("latin-1")] = _text(value.strip())
        self._in_content = True
        return Part(headers, self._offset)

    async def content(self) -> AsyncIterator[bytes]:
        """The current part's content up to the next delimiter, in the pieces it came in."""
        keep = len(self._delimiter) - 1  # a delimiter may begin in the last bytes
        while True:
            at = self._buffer.find(self._delimiter)
            if at >= 0:
                if at:
                    yield self._take(at)
                self._take(len(self._delimiter))
                self._in_content = False
                return
            if len(self._buffer) > keep:
                yield self._take(len(self._buffer) - keep)
            if not await self._fill():
                raise Refused(400, "the multipart body ends before its closing boundary")

    async def _until(self, marker: bytes) -> bytes:
        """The bytes up to `marker` (a part's head: bounded), consumed with it."""
        while (at := self._buffer.find(marker)) < 0:
            if len(self._buffer) > MAX_PART_HEAD_BYTES:
                raise Refused(400, f"a part's headers are longer than {MAX_PART_HEAD_BYTES} bytes")
            if not await self._fill():
                raise Refused(400, "the multipart body ends in a part's headers")
        if at > MAX_PART_HEAD_BYTES:
            raise Refused(400, f"a part's headers are longer than {MAX_PART_HEAD_BYTES} bytes")
        return self._take(at + len(marker))[:at]

    async def _fill(self) -> bool:
        chunk = await anext(self._chunks, None)
        if chunk is None:
            return False
        self._buffer += chunk
        return True

    def _take(self, size: int) -> bytes:
        taken = bytes(self._buffer[:size])
        del self._buffer[:size]
        self._offset += size
        return taken


class FileUploads:
    """The `POST /files` endpoint, for the HTTP layer."""

    def __init__(
        self, forwarder: Forwarder, route: Route, authenticator: Authenticator, *, max_other_bytes: int
    ) -> None:
        self._forwarder = forwarder
        self.route = route
        self._authenticator = authenticator
        self._max_other_bytes = max_other_bytes  # what may come before the file part

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await problem(
                send, 405, f"use POST, with multipart/form-data and the file in a part named {FILE_PART}"
            )
            return
        principal = await caller_of(self._authenticator, scope, send)
        if principal is None:
            return
        try:
            metadata = self._forwarder.metadata(
                principal,
                [
                    value.decode()
                    for key, value in scope.get("headers", ())
                    if key.lower() == b"idempotency-key"
                ],
            )
            reader = MultipartReader(_body(receive), _boundary(header(scope, b"content-type")))
            part = await self._file_part(reader)
            size = part.size
            if size is None:
                size = _request_size(scope, part, reader)
            upload = _upload_messages(part, size, reader)
            reply = await self._forwarder.relay_client_stream(self.route, upload, metadata)
        except Refused as refused:
            await problem(send, refused.status, refused.detail)
            return
        except Exception as error:
            failure = as_connect_error(error)
            await problem(send, UPLOAD_STATUS.get(failure.code.name, 502), failure.message)
            return
        await send_json(send, 201, json_format.MessageToDict(reply).get("file", {}))

    async def _file_part(self, reader: MultipartReader) -> Part:
        while (part := await reader.next_part(self._max_other_bytes)) is not None:
            if part.name == FILE_PART:
                return part
        raise Refused(400, f"the body has no part named {FILE_PART}")


def file_uploads(
    routes: Iterable[Route], forwarder: Forwarder, authenticator: Authenticator, *, max_other_bytes: int
) -> FileUploads | None:
    """`POST /files`, when Files is served."""
    for route in routes:
        if route.target == UPLOAD_TARGET:
            return FileUploads(forwarder, route, authenticator, max_other_bytes=max_other_bytes)
    return None


def _boundary(content_type: bytes | None) -> bytes:
    parsed = email.message.Message()
    parsed["content-type"] = _text(content_type or b"")
    boundary = parsed.get_param("boundary")
    if parsed.get_content_type() != "multipart/form-data" or not isinstance(boundary, str) or not boundary:
        raise Refused(
            400,
            f"the body must be multipart/form-data (with a boundary), the file in a part named {FILE_PART}",
        )
    return boundary.encode("latin-1", "replace")


def _request_size(scope: Scope, part: Part, reader: MultipartReader) -> int:
    declared = header(scope, b"content-length")
    if declared is None or not declared.isdigit():
        raise Refused(
            411, f"the size of the file is needed: send Content-Length, or the {FILE_PART} part's own"
        )
    return int(declared) - part.start - reader.closing_bytes


async def _upload_messages(
    part: Part, size: int, reader: MultipartReader
) -> AsyncIterator[pb.UploadFileRequest]:
    yield pb.UploadFileRequest(
        metadata=pb.UploadFileMetadata(
            filename=part.filename, content_type=part.content_type, size_bytes=size
        )
    )
    pending = bytearray()
    async for piece in reader.content():
        pending += piece
        while len(pending) >= CHUNK_BYTES:
            yield pb.UploadFileRequest(chunk=pb.UploadFileChunk(data=bytes(pending[:CHUNK_BYTES])))
            del pending[:CHUNK_BYTES]
    if pending:
        yield pb.UploadFileRequest(chunk=pb.UploadFileChunk(data=bytes(pending)))


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectError(Code.CANCELED, "the client went away")
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


def _text(raw: bytes) -> str:
    """A header value: UTF-8 (what browsers send for file names), else ISO-8859-1."""
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw.decode("latin-1")
