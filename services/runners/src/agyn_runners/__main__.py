"""The runners deployable: RunnersService."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
from agyn_common.server import Runtime, ServiceDefinition
from agyn_common.server import main as serve_main
from agynio.api.runners.v1 import runners_pb2_grpc

from agyn_runners.access import ACCESS, RUNNERS
from agyn_runners.models import metadata
from agyn_runners.servicer import RunnersServicer
from agyn_runners.settings import RunnersSettings


def register(server: grpc.aio.Server, runtime: Runtime[RunnersSettings]) -> None:
    runners_pb2_grpc.add_RunnersServiceServicer_to_server(RunnersServicer(runtime.db), server)


DEFINITION = ServiceDefinition(
    name="runners",
    settings_type=RunnersSettings,
    access=ACCESS,
    grpc_services=(RUNNERS,),
    register=register,
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
)


def main() -> None:
    sys.exit(serve_main(DEFINITION))


if __name__ == "__main__":
    main()
