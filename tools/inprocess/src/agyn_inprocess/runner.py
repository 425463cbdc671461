"""The reference runner daemon in-process, on a state directory of the caller's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from agyn_common.server import RunningService, start_service
from agyn_runner.__main__ import DEFINITION as RUNNER
from agyn_runner.settings import RunnerSettings
from agyn_testkit.calls import metadata
from agyn_testkit.harness import in_process_settings
from agynio.api.runner.v1 import runner_pb2, runner_pb2_grpc

pb = runner_pb2
# The daemon's callers (DESIGN §3): the orchestrator drives workloads, Runners reads logs.
ORCHESTRATOR = metadata(caller="agents-orchestrator")
RUNNERS = metadata(caller="runners")


def shell(script: str, name: str = "", **fields: Any) -> pb.ContainerSpec:
    """A container running `script` with /bin/sh."""
    return pb.ContainerSpec(
        **{"image": "local/sh", **fields}, name=name, entrypoint="/bin/sh -c", cmd=[script]
    )


@dataclass
class Runner:
    service: RunningService[RunnerSettings]
    stub: runner_pb2_grpc.RunnerServiceStub
    state_dir: Path

    @property
    def address(self) -> str:
        return self.service.address

    async def start(self, main: pb.ContainerSpec, **fields: Any) -> pb.StartWorkloadResponse:
        reply: pb.StartWorkloadResponse = await self.stub.StartWorkload(
            pb.StartWorkloadRequest(main=main, **fields), metadata=ORCHESTRATOR
        )
        return reply

    async def logs(
        self, workload_id: str, container: str = "main", timeout: float = 10, **fields: Any
    ) -> list[pb.LogChunk]:
        """Every chunk the stream sends until it ends (OK)."""
        call = self.stub.StreamWorkloadLogs(
            pb.StreamWorkloadLogsRequest(workload_id=workload_id, container_name=container, **fields),
            metadata=RUNNERS,
        )
        async with asyncio.timeout(timeout):
            return [reply.chunk async for reply in call]

    async def text(self, workload_id: str, container: str = "main", **fields: Any) -> str:
        return b"".join(chunk.data for chunk in await self.logs(workload_id, container, **fields)).decode()

    async def wait_exited(self, workload_id: str, timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while True:
                inspected = await self.stub.InspectWorkload(
                    pb.InspectWorkloadRequest(workload_id=workload_id), metadata=ORCHESTRATOR
                )
                if not inspected.state_running:
                    return
                await asyncio.sleep(0.05)

    async def wait_for_output(self, workload_id: str, lines: int, container: str = "main") -> str:
        """The container's output once it holds `lines` lines."""
        async with asyncio.timeout(10):
            while True:
                text = await self.text(workload_id, container)
                if text.count("\n") >= lines:
                    return text
                await asyncio.sleep(0.05)


@asynccontextmanager
async def in_process_runner(state_dir: Path, nats_url: str, **overrides: Any) -> AsyncIterator[Runner]:
    """The daemon on `state_dir`; it runs /bin/sh unless `runner_allowed_commands` says otherwise."""
    settings = in_process_settings(
        RunnerSettings,
        "",
        nats_url,
        **{"runner_state_dir": state_dir, "runner_allowed_commands": "/bin/sh", **overrides},
    )
    running = await start_service(RUNNER, settings)
    await running.runtime.bus.wait_ready(15)
    channel = grpc.aio.insecure_channel(running.address)
    try:
        yield Runner(running, runner_pb2_grpc.RunnerServiceStub(channel), state_dir)
    finally:
        await channel.close()
        await running.stop(1)
