"""Rows <-> messages."""

from __future__ import annotations

from typing import Any

from agyn_common.timestamps import timestamp
from agynio.api.files.v1 import files_pb2 as pb


def file_info(row: Any) -> pb.FileInfo:
    return pb.FileInfo(
        id=str(row.id),
        filename=row.filename,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        created_at=timestamp(row.created_at),
    )
