"""PutArchive: a tar archive unpacked inside a workload's root, and nowhere else."""

from __future__ import annotations

import asyncio
import io
import tarfile
from pathlib import Path

import grpc
from agyn_common.errors import ServiceError, invalid_argument

from agyn_runner import spec


async def unpack(root: Path, path: str, payload: bytes) -> None:
    target = root / spec.under_root("path", path)

    def extract() -> None:
        with tarfile.open(fileobj=io.BytesIO(payload)) as archive:
            target.mkdir(parents=True, exist_ok=True)
            archive.extractall(target, filter="data")  # nothing lands outside `target`

    try:
        await asyncio.to_thread(extract)
    except tarfile.TarError as error:
        raise invalid_argument("tar_payload", f"not a usable tar archive: {error}") from None
    except OSError as error:
        raise ServiceError(
            grpc.StatusCode.FAILED_PRECONDITION, f"path: cannot unpack there: {error.strerror}"
        ) from None
