"""Whether the files a message names exist, asked of Files (one GetFileMetadata per file, at
once: a message names at most 32)."""

from __future__ import annotations

import asyncio
import uuid

import grpc
from agyn_common.errors import dependency_unavailable, not_found
from agynio.api.files.v1 import files_pb2, files_pb2_grpc


class Attachments:
    def __init__(self, files: grpc.aio.Channel) -> None:
        self._files = files_pb2_grpc.FilesServiceStub(files)

    async def require_existing(self, file_ids: list[uuid.UUID]) -> None:
        """NOT_FOUND naming the first file Files does not know; UNAVAILABLE when Files is away."""
        unique = list(dict.fromkeys(file_ids))
        answers = await asyncio.gather(
            *(self._files.GetFileMetadata(files_pb2.GetFileMetadataRequest(file_id=str(f))) for f in unique),
            return_exceptions=True,
        )
        for file_id, answer in zip(unique, answers, strict=True):
            if isinstance(answer, grpc.aio.AioRpcError):
                if answer.code() == grpc.StatusCode.NOT_FOUND:
                    raise not_found(f"file {file_id} not found")
                raise dependency_unavailable("files", answer)
            if isinstance(answer, BaseException):
                raise answer
