"""FilesService: one thin method per RPC (DESIGN §6), files sheet A.3."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import ServiceError, invalid_argument, not_found
from agyn_common.metrics import Metrics
from agyn_common.timestamps import timestamp
from agyn_common.validation import parse_uuid
from agynio.api.files.v1 import files_pb2 as pb
from agynio.api.files.v1 import files_pb2_grpc
from google.protobuf.duration_pb2 import Duration

from agyn_files import store
from agyn_files.convert import file_info
from agyn_files.objects import ObjectStore
from agyn_files.settings import MAX_URL_EXPIRY, FilesSettings
from agyn_files.uploads import check_metadata, checked_chunks, discard_rest

# GetFileContent's message size (files sheet A.8-8).
CONTENT_CHUNK_BYTES = 64 * 2**10


def _file_id(value: str) -> uuid.UUID:
    if not value.strip():
        raise invalid_argument("file_id", "file_id is required")
    return parse_uuid(value.strip(), "file_id")


def _expiry(value: Duration) -> timedelta:
    """A link's requested life: positive, at most a day (checked on the numbers: a Duration far
    out of range would overflow a timedelta)."""
    seconds, nanos = value.seconds, value.nanos
    if abs(nanos) > 999_999_999 or seconds * nanos < 0:
        raise invalid_argument("expiry", "is not a valid duration")
    if seconds < 0 or (seconds, nanos) <= (0, 0):
        raise invalid_argument("expiry", "must be positive")
    if (seconds, nanos) > (MAX_URL_EXPIRY // timedelta(seconds=1), 0):
        raise invalid_argument("expiry", "expiry exceeds maximum of 24h")
    return timedelta(seconds=seconds, microseconds=nanos // 1000)


class FilesServicer(files_pb2_grpc.FilesServiceServicer):
    def __init__(self, db: Database, objects: ObjectStore, settings: FilesSettings, metrics: Metrics) -> None:
        self._db = db
        self._objects = objects
        self._settings = settings
        self._stored = metrics.counter("agyn_files_stored_total", "Files stored (UploadFile).")
        self._stored_bytes = metrics.counter("agyn_files_stored_bytes_total", "Bytes of the files stored.")
        self._served_bytes = metrics.counter(
            "agyn_files_served_bytes_total", "Bytes streamed by GetFileContent."
        )

    async def UploadFile(
        self, request_iterator: AsyncIterator[pb.UploadFileRequest], context: grpc.aio.ServicerContext
    ) -> pb.UploadFileResponse:
        messages = aiter(request_iterator)
        upload = check_metadata(
            await anext(messages, None),
            allowed=self._settings.content_type_prefixes,
            max_size=self._settings.max_file_size,
        )
        file_id = uuid.uuid4()
        try:
            await self._objects.put(
                file_id, checked_chunks(messages, upload.size_bytes), upload.size_bytes, upload.content_type
            )
        except ServiceError as refusal:
            if refusal.code is grpc.StatusCode.INVALID_ARGUMENT:
                await discard_rest(messages)
            raise
        caller = current_caller()
        try:
            row = await store.insert_file(
                self._db,
                id=file_id,
                filename=upload.filename,
                content_type=upload.content_type,
                size_bytes=upload.size_bytes,
                uploader_identity_id=caller.identity_id,
                uploader_identity_type=caller.identity_type,
            )
        except BaseException:
            # No row points at it: an object nobody can name (files sheet A.8-6).
            await self._objects.delete(file_id)
            raise
        self._stored.inc()
        self._stored_bytes.inc(upload.size_bytes)
        return pb.UploadFileResponse(file=file_info(row))

    async def GetFileMetadata(
        self, request: pb.GetFileMetadataRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetFileMetadataResponse:
        row = await store.get_file(self._db, _file_id(request.file_id))
        return pb.GetFileMetadataResponse(file=file_info(row))

    async def GetDownloadUrl(
        self, request: pb.GetDownloadUrlRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetDownloadUrlResponse:
        file_id = _file_id(request.file_id)
        expiry = _expiry(request.expiry) if request.HasField("expiry") else self._settings.url_expiry
        await store.get_file(self._db, file_id)
        url = await self._objects.download_url(file_id, expiry)
        return pb.GetDownloadUrlResponse(url=url, expires_at=timestamp(datetime.now(UTC) + expiry))

    async def GetFileContent(
        self, request: pb.GetFileContentRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.GetFileContentResponse]:
        file_id = _file_id(request.file_id)
        await store.get_file(self._db, file_id)
        try:
            chunks = await self._objects.read(file_id, CONTENT_CHUNK_BYTES)
        except FileNotFoundError:
            raise not_found("file not found: its content is missing from the object store") from None
        async for chunk in chunks:
            self._served_bytes.inc(len(chunk))
            yield pb.GetFileContentResponse(chunk_data=chunk)
