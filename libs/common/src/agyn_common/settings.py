"""Service settings from the environment, validated once at start.

A missing or bad setting ends the process with one line naming it, before anything
starts, instead of a traceback or a half-started service.
"""

from __future__ import annotations

import sys
from typing import Literal, TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from agyn_common.access import AccessMode
from agyn_common.logs import LogFormat


class ServiceSettings(BaseSettings):
    """What every service reads. Subclass it to add a service's own settings."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    database_url: str = Field(description="postgresql:// DSN of the service's own database")
    nats_url: str = Field(default="nats://127.0.0.1:4222")
    grpc_host: str = Field(default="0.0.0.0")
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    # The largest request message the server takes (gRPC's own default).
    grpc_max_recv_bytes: int = Field(default=4 * 2**20, gt=0)
    agyn_access_mode: AccessMode = Field(default=AccessMode.MESH)
    # In mesh mode, accept callers only from this Kubernetes namespace (unset: any).
    agyn_mesh_namespace: str | None = None
    # The stop (agyn_common.server): NOT_SERVING at once but still serving every call for the
    # lame duck, time for load balancers to take the replica out (the Helm charts set 5 s);
    # then no new calls, and the accepted ones get the grace period to finish.
    shutdown_lame_duck_seconds: float = Field(default=0.0, ge=0)
    shutdown_grace_seconds: float = Field(default=20.0, gt=0)
    migrate_on_start: bool = True
    # How long start-up (and `migrate`) waits for a database that does not answer yet.
    database_wait_seconds: float = Field(default=60.0, ge=0)
    # How long an answer about another service's relations (organization, agent) is kept;
    # the owner's change events drop it sooner.
    access_cache_seconds: float = Field(default=5.0, ge=0)
    # The most outbox rows the relay publishes in one pass (one transaction, one wait for
    # JetStream's acknowledgements). A service that emits in bulk raises it.
    outbox_batch_size: int = Field(default=200, gt=0)
    # Prometheus metrics on http://<grpc_host>:<port>/metrics, a port of its own (0: none are
    # served or recorded).
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    # The event loop the service runs on: uvloop wakes and switches for less CPU per call.
    event_loop: Literal["asyncio", "uvloop"] = "uvloop"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # auto: text when stderr is a terminal, JSON otherwise (files, pipes, log collectors).
    log_format: LogFormat = "auto"


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def describe_errors(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]).upper() or "settings"
        reason = "is required" if item["type"] == "missing" else item["msg"]
        problems.append(f"{name} {reason}")
    return "; ".join(problems)


def load_settings(settings_type: type[SettingsT], program: str) -> SettingsT:
    """Read the settings or exit(2) with one line: `<program>: bad settings: NAME reason`."""
    try:
        return settings_type()
    except ValidationError as error:
        print(f"{program}: bad settings: {describe_errors(error)}", file=sys.stderr)
        raise SystemExit(2) from None
