"""The local runner of `make up`: a cluster runner registered in Runners once, whose daemon
enrolls itself through the Gateway with the service token kept in the state directory."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import grpc
from agynio.api.runners.v1 import runners_pb2, runners_pb2_grpc

RUNNER_NAME = "local"
ENROLL_TIMEOUT_SECONDS = 60.0


def _as_admin(admin_identity: str) -> tuple[tuple[str, str], ...]:
    """Metadata of a call the Gateway would make for the local admin (local access mode)."""
    return (("x-agyn-caller", "gateway"), ("x-identity-id", admin_identity), ("x-identity-type", "user"))


def service_token(state_dir: Path, runners_address: str, admin_identity: str) -> tuple[str, str]:
    """The local runner's id and service token: registered on the first `up` (a token is shown
    only once, so both are kept in the state directory), read back on the next ones."""
    token_path, id_path = state_dir / "runner-token", state_dir / "runner-id"
    if token_path.exists() and id_path.exists():
        return id_path.read_text().strip(), token_path.read_text().strip()
    with grpc.insecure_channel(runners_address) as channel:
        reply = runners_pb2_grpc.RunnersServiceStub(channel).RegisterRunner(
            runners_pb2.RegisterRunnerRequest(name=RUNNER_NAME, labels={"local": "true"}),
            metadata=_as_admin(admin_identity),
            timeout=30,
        )
    token_path.touch(mode=0o600)
    token_path.write_text(reply.service_token + "\n")
    id_path.write_text(reply.runner.meta.id + "\n")
    os.chmod(token_path, 0o600)
    return reply.runner.meta.id, reply.service_token


def wait_enrolled(
    runners_address: str, admin_identity: str, runner_id: str, alive: Callable[[], bool]
) -> None:
    """Until the daemon has enrolled (Runners says ENROLLED); `alive()` False stops the wait."""
    deadline = time.monotonic() + ENROLL_TIMEOUT_SECONDS
    with grpc.insecure_channel(runners_address) as channel:
        runners = runners_pb2_grpc.RunnersServiceStub(channel)
        while time.monotonic() < deadline and alive():
            reply = runners.GetRunner(
                runners_pb2.GetRunnerRequest(id=runner_id), metadata=_as_admin(admin_identity), timeout=10
            )
            if reply.runner.status == runners_pb2.RUNNER_STATUS_ENROLLED:
                return
            time.sleep(0.2)
    raise TimeoutError(f"the local runner did not enroll within {ENROLL_TIMEOUT_SECONDS:.0f}s")
