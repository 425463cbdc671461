"""Files in-process on the session's S3 store (SeaweedFS)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from agyn_common.embedded import EmbeddedS3
from agyn_common.server import RunningService, start_service
from agyn_files.__main__ import DEFINITION as FILES
from agyn_files.settings import FilesSettings
from agyn_testkit.calls import metadata
from agyn_testkit.fixtures import DatabaseFactory
from agyn_testkit.harness import in_process_settings
from agynio.api.files.v1 import files_pb2, files_pb2_grpc

pb = files_pb2
CHUNK_BYTES = 64 * 2**10  # what clients send
# One bucket for every Files of a test session, as for a platform: SeaweedFS gives each bucket
# volumes of its own, and runs out of them after a handful of buckets. Objects are named by
# new UUIDs, so tests never see each other's.
BUCKET = "agyn-files"


def upload_messages(
    data: bytes, filename: str = "notes.txt", content_type: str = "text/plain"
) -> list[pb.UploadFileRequest]:
    """The messages of an upload of `data`: its metadata, then 64 KiB chunks."""
    return [
        pb.UploadFileRequest(
            metadata=pb.UploadFileMetadata(filename=filename, content_type=content_type, size_bytes=len(data))
        ),
        *(
            pb.UploadFileRequest(chunk=pb.UploadFileChunk(data=data[i : i + CHUNK_BYTES]))
            for i in range(0, len(data), CHUNK_BYTES)
        ),
    ]


def s3_settings(s3: EmbeddedS3, bucket: str) -> dict[str, str]:
    """Files' settings for the embedded store."""
    return {
        "s3_endpoint": s3.endpoint,
        "s3_bucket": bucket,
        "s3_region": s3.REGION,
        "s3_access_key": s3.ACCESS_KEY,
        "s3_secret_key": s3.SECRET_KEY,
    }


@dataclass
class Files:
    service: RunningService[FilesSettings]
    stub: files_pb2_grpc.FilesServiceStub

    @property
    def address(self) -> str:
        return self.service.address

    async def upload(self, caller: uuid.UUID, data: bytes, **fields: str) -> pb.FileInfo:
        reply: pb.UploadFileResponse = await self.stub.UploadFile(
            iter(upload_messages(data, **fields)), metadata=metadata(caller)
        )
        return reply.file

    async def content(self, caller: uuid.UUID, file_id: str) -> bytes:
        chunks = self.stub.GetFileContent(
            pb.GetFileContentRequest(file_id=file_id), metadata=metadata(caller)
        )
        return b"".join([reply.chunk_data async for reply in chunks])


@asynccontextmanager
async def in_process_files(
    database_factory: DatabaseFactory, nats_url: str, s3: EmbeddedS3, **overrides: Any
) -> AsyncIterator[Files]:
    """Files on the session's bucket (it creates it, as in local mode)."""
    settings = {**s3_settings(s3, BUCKET), **overrides}
    running = await start_service(
        FILES,
        in_process_settings(FilesSettings, database_factory("files", FILES.migrations), nats_url, **settings),
    )
    channel = grpc.aio.insecure_channel(running.address)
    try:
        yield Files(service=running, stub=files_pb2_grpc.FilesServiceStub(channel))
    finally:
        await channel.close()
        await running.stop(1)
