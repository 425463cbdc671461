from __future__ import annotations

from pathlib import Path

from agyn_common.settings import ServiceSettings
from pydantic import Field, SecretStr, model_validator


class RunnerSettings(ServiceSettings):
    # No database: workloads, logs and volumes are files under the state directory.
    database_url: str = ""
    runner_state_dir: Path = Field(description="where workloads, their logs and volumes are kept")
    # Executables StartWorkload may run, comma-separated: a name without a slash is a command
    # found on the workload's PATH, one with a slash an exact path; `*` allows any. Empty
    # (the default): nothing runs, since a caller of StartWorkload runs code on this machine.
    runner_allowed_commands: str = ""
    # StopWorkload's grace before SIGKILL when the request gives none.
    runner_stop_timeout_seconds: float = Field(default=10.0, gt=0)
    # Enrollment (runners sheet): the service token from RegisterRunner, the Gateway it is
    # exchanged at, and the host:port Runners dials back (default: GRPC_HOST:GRPC_PORT).
    runner_service_token: SecretStr | None = None
    gateway_url: str = ""
    runner_advertised_address: str = ""
    # First wait before retrying an enrollment the Gateway could not answer (doubles up to 30 s).
    runner_enroll_retry_seconds: float = Field(default=1.0, gt=0)

    def allowed_commands(self) -> frozenset[str]:
        return frozenset(entry.strip() for entry in self.runner_allowed_commands.split(",") if entry.strip())

    def advertised_address(self) -> str:
        if self.runner_advertised_address:
            return self.runner_advertised_address
        host = "127.0.0.1" if self.grpc_host in ("0.0.0.0", "::", "") else self.grpc_host
        return f"{host}:{self.grpc_port}"

    @model_validator(mode="after")
    def _enrollment_needs_the_gateway(self) -> RunnerSettings:
        if self.runner_service_token is not None and not self.gateway_url:
            raise ValueError("GATEWAY_URL is required with RUNNER_SERVICE_TOKEN (enrollment goes through it)")
        return self
