"""A service as a real process, the way Kubernetes runs one: settings in the environment, JSON
logs on stderr, stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from agyn_testkit.harness import wait_for_health
from grpc_health.v1 import health_pb2


@dataclass
class ServiceProcess:
    process: asyncio.subprocess.Process
    port: int
    log_path: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def wait_serving(self, timeout: float = 60.0) -> None:
        async with grpc.aio.insecure_channel(self.address) as channel:
            try:
                await wait_for_health(channel, health_pb2.HealthCheckResponse.SERVING, timeout=timeout)
            except TimeoutError:
                raise AssertionError(f"not SERVING; its log ends:\n{self.log_tail()}") from None

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.process.send_signal(signum)

    async def exit_code(self, within: float) -> int:
        """The exit code; AssertionError if the process is still running after `within` seconds."""
        try:
            async with asyncio.timeout(within):
                return await self.process.wait()
        except TimeoutError:
            raise AssertionError(f"still running after {within}s; its log ends:\n{self.log_tail()}") from None

    def log(self) -> list[dict[str, Any]]:
        """Every line it logged (one JSON object each)."""
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.startswith("{")]

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@asynccontextmanager
async def service_process(
    module: str, port: int, log_path: Path, **settings: str
) -> AsyncIterator[ServiceProcess]:
    """`python -m <module> serve` on loopback `port` in local access mode with `settings` (by
    their environment names); killed on exit if it is still running."""
    environment = {
        **os.environ,
        "GRPC_HOST": "127.0.0.1",
        "GRPC_PORT": str(port),
        "METRICS_PORT": "0",
        "AGYN_ACCESS_MODE": "local",
        "LOG_FORMAT": "json",
        **settings,
    }
    log = await asyncio.to_thread(log_path.open, "ab")
    with log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            "serve",
            env=environment,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
        )
    try:
        yield ServiceProcess(process, port, log_path)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
