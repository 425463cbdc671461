"""The platform as separate processes, one per service, on the session's PostgreSQL and NATS.

The services come from `make up`'s table, so a new service joins these scenarios by being
added there. Each process gets the addresses of all the others, as in `make up`.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from agyn_common.embedded import free_port
from agyn_common.testing import wait_for_health
from agyn_local.platform import service_environment
from agyn_local.services import SERVICES
from grpc_health.v1 import health_pb2


@dataclass
class Processes:
    addresses: dict[str, str]
    logs: Path

    def log_tail(self, name: str, lines: int = 30) -> str:
        return "\n".join((self.logs / f"{name}.log").read_text().splitlines()[-lines:])


def spawn(module: str, environment: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", module, "serve"], env=environment, stdout=log, stderr=log
        )


def stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()


@pytest.fixture
async def processes(database_factory, nats, tmp_path) -> AsyncIterator[Processes]:
    addresses = {service.name: f"127.0.0.1:{free_port()}" for service in SERVICES}
    running = Processes(addresses=addresses, logs=tmp_path)
    children: list[subprocess.Popen[bytes]] = []
    try:
        for service in SERVICES:
            # An empty database: the service migrates it at start, as in `make up`.
            database_url = database_factory(service.name, None) if service.database else None
            port = int(addresses[service.name].rsplit(":", 1)[1])
            environment = service_environment(nats.url, port, addresses, database_url)
            children.append(spawn(service.module, environment, tmp_path / f"{service.name}.log"))
        for service in SERVICES:
            async with grpc.aio.insecure_channel(addresses[service.name]) as channel:
                try:
                    await wait_for_health(channel, health_pb2.HealthCheckResponse.SERVING, timeout=60)
                except TimeoutError:
                    pytest.fail(f"{service.name} did not start:\n{running.log_tail(service.name)}")
        yield running
    finally:
        stop(children)
