"""The files deployable: FilesService, its bytes in an S3-compatible object store."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
from agyn_common.access import AccessMode
from agyn_common.server import Runtime, ServiceDefinition
from agyn_common.server import main as serve_main
from agynio.api.files.v1 import files_pb2_grpc

from agyn_files.access import ACCESS, FILES
from agyn_files.models import metadata
from agyn_files.objects import ObjectStore
from agyn_files.servicer import FilesServicer
from agyn_files.settings import FilesSettings


async def prepare(runtime: Runtime[FilesSettings]) -> None:
    if runtime.settings.agyn_access_mode is AccessMode.LOCAL:
        # `make up` and tests bring an empty store; in a cluster the operator provides the bucket.
        await ObjectStore(runtime.settings).create_bucket_if_missing()


def register(server: grpc.aio.Server, runtime: Runtime[FilesSettings]) -> None:
    servicer = FilesServicer(runtime.db, ObjectStore(runtime.settings), runtime.settings, runtime.metrics)
    files_pb2_grpc.add_FilesServiceServicer_to_server(servicer, server)


DEFINITION = ServiceDefinition(
    name="files",
    settings_type=FilesSettings,
    access=ACCESS,
    grpc_services=(FILES,),
    register=register,
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    prepare=prepare,
)


def main() -> None:
    sys.exit(serve_main(DEFINITION))


if __name__ == "__main__":
    main()
