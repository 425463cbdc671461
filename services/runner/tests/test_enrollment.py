"""Enrollment at the Gateway (runners sheet, EnrollRunner), against a real HTTP server that
speaks the Connect JSON shape of `RunnersGateway/EnrollRunner` in the Gateway's place."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from agyn_common.embedded import EmbeddedNats, free_port
from agyn_inprocess.runner import ORCHESTRATOR, in_process_runner, pb
from agyn_runner.settings import RunnerSettings
from agyn_testkit.harness import wait_until
from pydantic import ValidationError

TOKEN = "agynrs_test-service-token"
ADDRESS = "127.0.0.1:7777"
CREDENTIAL = b'{"credential": "agynr_secret"}'


@dataclass
class FakeGateway:
    """Stands in for the Gateway: checks the call as the real one would and answers it."""

    port: int
    refuse: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.calls.append(
                    {"path": self.path, "address": self.headers.get("x-runner-address"), "body": body}
                )
                if self.path != "/agynio.api.gateway.v1.RunnersGateway/EnrollRunner":
                    self._answer(404, {"code": "unimplemented", "message": "no such method"})
                elif self.headers.get("Content-Type") != "application/json" or body != {
                    "serviceToken": TOKEN
                }:
                    self._answer(400, {"code": "invalid_argument", "message": "bad request"})
                elif gateway.refuse:
                    self._answer(401, {"code": "unauthenticated", "message": "invalid service token"})
                else:
                    identity_json = base64.b64encode(CREDENTIAL).decode()
                    self._answer(
                        200, {"identityJson": identity_json, "serviceName": "runner-r1", "identityId": "r1"}
                    )

            def _answer(self, status: int, body: dict[str, str]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    fake = FakeGateway(free_port())
    yield fake
    fake.stop()


def enrolling(gateway: FakeGateway) -> dict[str, Any]:
    return {
        "runner_service_token": TOKEN,
        "gateway_url": gateway.url,
        "runner_advertised_address": ADDRESS,
        "runner_enroll_retry_seconds": 0.1,
    }


def credential(state_dir: Path) -> Path:
    return state_dir / "credential"


async def test_the_runner_enrolls_once_and_keeps_its_credential(tmp_path: Path, nats: EmbeddedNats, gateway):
    gateway.start()
    state_dir = tmp_path / "runner"
    async with in_process_runner(state_dir, nats.url, **enrolling(gateway)):
        await wait_until(lambda: credential(state_dir).exists())
    assert gateway.calls == [
        {
            "path": "/agynio.api.gateway.v1.RunnersGateway/EnrollRunner",
            "address": ADDRESS,
            "body": {"serviceToken": TOKEN},
        }
    ]
    assert credential(state_dir).read_bytes() == CREDENTIAL
    assert stat.S_IMODE(credential(state_dir).stat().st_mode) == 0o600
    async with in_process_runner(state_dir, nats.url, **enrolling(gateway)) as runner:
        assert (await runner.stub.Ready(pb.ReadyRequest(), metadata=ORCHESTRATOR)).status == "ok"
    assert len(gateway.calls) == 1, "a runner with a credential does not enroll again"


async def test_enrollment_is_retried_while_the_gateway_is_away_and_the_runner_serves(
    tmp_path: Path, nats: EmbeddedNats, gateway
):
    state_dir = tmp_path / "runner"
    async with in_process_runner(state_dir, nats.url, **enrolling(gateway)) as runner:
        assert (await runner.stub.Ready(pb.ReadyRequest(), metadata=ORCHESTRATOR)).status == "ok"
        await runner.stub.ListWorkloads(pb.ListWorkloadsRequest(), metadata=ORCHESTRATOR)
        assert not credential(state_dir).exists()
        gateway.start()
        await wait_until(lambda: credential(state_dir).exists(), timeout=15)
    assert len(gateway.calls) == 1


async def test_a_refused_token_is_logged_and_not_retried(
    tmp_path: Path, nats: EmbeddedNats, gateway, caplog: pytest.LogCaptureFixture
):
    gateway.refuse = True
    gateway.start()
    state_dir = tmp_path / "runner"
    with caplog.at_level(logging.ERROR, logger="agyn_runner.enrollment"):
        async with in_process_runner(state_dir, nats.url, **enrolling(gateway)):
            await wait_until(lambda: "enrollment refused" in caplog.text)
            await asyncio.sleep(0.5)  # retries would come every 0.1 s
    assert "unauthenticated: invalid service token" in caplog.text
    assert "RUNNER_SERVICE_TOKEN" in caplog.text
    assert len(gateway.calls) == 1
    assert not credential(state_dir).exists()


def test_a_token_without_a_gateway_is_a_settings_error(tmp_path: Path):
    with pytest.raises(ValidationError, match="GATEWAY_URL"):
        RunnerSettings(runner_state_dir=tmp_path, runner_service_token=TOKEN)
