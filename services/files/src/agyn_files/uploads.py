"""The UploadFile protocol (files sheet A.3): a metadata message, then chunks, each check in
the sheet's order, each failure with its status.

The chunks are checked as they are handed to the object store, so a refusal mid-stream
aborts the store's upload and is the call's answer.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from agyn_common.errors import ServiceError, invalid_argument, resource_exhausted
from agynio.api.files.v1 import files_pb2 as pb

# Clients send 64 KiB; anything past this in one message is refused (step 8).
MAX_CHUNK_BYTES = 256 * 2**10
# What is read and dropped of a refused upload before the refusal is sent (discard_rest).
DISCARD_MAX_BYTES = 64 * 2**20
MAX_FILENAME_CHARS = 1024
# type "/" subtype, each an HTTP token (RFC 9110 §5.6.2).
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}")


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str  # normalised: no parameters, lower case
    size_bytes: int


def media_type(value: str) -> str:
    """`text/plain; charset=utf-8` → `text/plain`; INVALID_ARGUMENT when it is not a media type."""
    essence = value.split(";", 1)[0].strip().lower()
    if not essence:
        raise invalid_argument("metadata.content_type", "is required")
    if not _MEDIA_TYPE.fullmatch(essence):
        raise invalid_argument("metadata.content_type", f"is not a media type: {value[:100]!r}")
    return essence


def check_metadata(first: pb.UploadFileRequest | None, *, allowed: tuple[str, ...], max_size: int) -> Upload:
    """Steps 1-6: the first message, `None` when the client sent none."""
    if first is None or first.WhichOneof("payload") != "metadata":
        raise invalid_argument("metadata", "metadata is required as the first message")
    metadata = first.metadata
    filename = metadata.filename.strip()
    if not filename:
        raise invalid_argument("metadata.filename", "is required")
    if len(filename) > MAX_FILENAME_CHARS:
        raise invalid_argument(
            "metadata.filename", f"must be at most {MAX_FILENAME_CHARS} characters, got {len(filename)}"
        )
    content_type = media_type(metadata.content_type)
    if not content_type.startswith(allowed):
        raise invalid_argument("metadata.content_type", f"content_type is not allowed: {content_type}")
    if metadata.size_bytes <= 0:
        raise invalid_argument("metadata.size_bytes", "must be greater than 0")
    if metadata.size_bytes > max_size:
        raise resource_exhausted(f"file exceeds max size of {max_size} bytes")
    return Upload(filename, content_type, metadata.size_bytes)


async def checked_chunks(
    messages: AsyncIterator[pb.UploadFileRequest], declared: int
) -> AsyncIterator[bytes]:
    """Steps 7-10: the bytes of every later message, ending only when exactly `declared`
    bytes came."""
    received = 0
    async for message in messages:
        kind = message.WhichOneof("payload")
        if kind == "metadata":
            raise invalid_argument("metadata", "metadata may only be the first message")
        if kind is None:
            raise invalid_argument("payload", "is required: a chunk")
        data = message.chunk.data
        if len(data) > MAX_CHUNK_BYTES:
            raise invalid_argument("chunk.data", f"must be at most {MAX_CHUNK_BYTES} bytes, got {len(data)}")
        received += len(data)
        if received > declared:
            raise invalid_argument("chunk.data", f"file exceeds declared size of {declared} bytes")
        if data:
            yield data
    if received != declared:
        raise invalid_argument(
            "metadata.size_bytes", f"file size does not match metadata: {received} of {declared} bytes came"
        )


async def discard_rest(messages: AsyncIterator[pb.UploadFileRequest]) -> None:
    """Read what the client still sends of a refused upload, up to DISCARD_MAX_BYTES, so that
    the refusal reaches it: a gRPC client still writing when the server ends the call may see
    "Internal error from Core" instead of the server's status (grpc-core's race)."""
    discarded = 0
    with contextlib.suppress(ServiceError):  # a message refused on its own ends the reading
        async for message in messages:
            discarded += message.ByteSize()
            if discarded > DISCARD_MAX_BYTES:
                return
