"""What Kubernetes runs: one entry per service, on top of `make up`'s table.

The local table already knows each service's name, module and whether it has a database;
this adds what only a cluster needs: the port, the services it calls, and the settings
its chart exposes. A new service is one entry here plus one in `agyn_local.services`.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import Any

from agyn_common.access import ServiceAccess
from agyn_local.services import SERVICES, LocalService

GRPC_PORT = 50051


@dataclass(frozen=True)
class Deployable:
    local: LocalService
    description: str
    calls: tuple[str, ...]  # services it calls: `<NAME>_ADDRESS` settings and egress rules
    port: int = GRPC_PORT
    # The Service port's name tells Istio the protocol. The Gateway's is `http2` so native
    # gRPC clients coming through the ingress reach its h2c listener over HTTP/2.
    port_name: str = "grpc"
    # Keeps bytes in the object store: its S3_* settings come from `global.objectStore`.
    object_store: bool = False
    # Chart defaults beyond the common ones: settings (environment variables), rules added
    # to the generated AuthorizationPolicy, and NetworkPolicy ingress beyond the callers.
    settings: dict[str, str] = field(default_factory=dict)
    extra_rules: tuple[dict[str, Any], ...] = ()
    extra_ingress: tuple[dict[str, Any], ...] = ()

    @property
    def name(self) -> str:
        return self.local.name

    @property
    def module(self) -> str:
        return self.local.module

    @property
    def distribution(self) -> str:
        return self.local.module.replace("_", "-")

    @property
    def image(self) -> str:
        return self.distribution

    def access(self) -> ServiceAccess | None:
        """The service's access declaration; None for the Gateway, the HTTP edge."""
        name = f"{self.module}.access"
        if importlib.util.find_spec(name) is None:
            return None
        declaration: ServiceAccess = importlib.import_module(name).ACCESS
        return declaration


# The front door's only mesh caller is the ingress gateway; any pod may connect to it.
_INGRESS_GATEWAY = "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"


def _local(name: str) -> LocalService:
    return next(service for service in SERVICES if service.name == name)


DEPLOYABLES: tuple[Deployable, ...] = (
    Deployable(
        _local("users"),
        "Users and identities: accounts, API tokens, devices and the cluster-admin role.",
        calls=("organizations",),
    ),
    Deployable(
        _local("organizations"),
        "Organizations, memberships and the organization relations other services check.",
        calls=("users",),
    ),
    Deployable(
        _local("threads"),
        "Threads and messages between users and agents.",
        calls=("organizations", "users", "agents", "files"),
    ),
    Deployable(
        _local("notifications"),
        "Notification streams (Subscribe) fed from the bus, and Publish for producers.",
        calls=("organizations", "agents", "runners", "tracing"),
    ),
    Deployable(
        _local("gateway"),
        "The external API: Connect, gRPC and gRPC-Web on one port, authenticated.",
        calls=(
            "users",
            "organizations",
            "threads",
            "notifications",
            "agents",
            "files",
            "runners",
            "tracing",
            "chat",
        ),
        port=8080,
        port_name="http2",
        # Istio's ingress names the real client; the per-client rate limits key on it.
        settings={"CLIENT_ADDRESS_HEADER": "x-envoy-external-address"},
        extra_rules=({"from": [{"source": {"principals": [_INGRESS_GATEWAY]}}]},),
        extra_ingress=({"ports": [{"port": 8080, "protocol": "TCP"}]},),
    ),
    Deployable(
        _local("agents"),
        "Agent definitions, their roles, volumes and the sub-resources agent pods are built from.",
        calls=("organizations", "users"),
    ),
    Deployable(
        _local("files"),
        "Files: uploads kept in an S3-compatible object store, their metadata, download links and content.",
        calls=(),
        object_store=True,
        # The service's own defaults, written out so that the chart shows what can be tuned.
        settings={"MAX_FILE_SIZE": "20971520", "URL_EXPIRY": "1h"},
    ),
    Deployable(
        _local("runners"),
        "Runners, and the runtime records of the workloads and volumes placed on them; their logs.",
        # The runner daemon too: its logs are read where it said it serves (x-runner-address).
        calls=("organizations", "users", "agents", "runner"),
    ),
    Deployable(
        _local("runner"),
        "The reference runner daemon: workloads as local processes, for Runners and the agents orchestrator.",
        calls=(),
        # State on the pod's /tmp (an emptyDir): mount a volume there to keep it. Nothing runs
        # until the operator lists the commands workloads may run. It enrolls through the
        # Gateway once given RUNNER_SERVICE_TOKEN (extraEnv, from a Secret), and tells Runners
        # its Service's address.
        settings={
            "RUNNER_STATE_DIR": "/tmp/agyn-runner",
            "RUNNER_ALLOWED_COMMANDS": "",
            "GATEWAY_URL": "http://gateway:8080",
            "RUNNER_ADVERTISED_ADDRESS": "runner:50051",
        },
    ),
    Deployable(
        _local("tracing"),
        "Tracing: the span store. OTLP Export from agents and platform services, and the trace queries.",
        calls=("users", "agents", "organizations", "threads"),
        # Any pod may export (the servicer authenticates the exporter's credential).
        extra_ingress=({"ports": [{"port": GRPC_PORT, "protocol": "TCP"}]},),
        # The service's own default, written out so that the chart shows what can be tuned.
        settings={"RETENTION_DAYS": "14"},
    ),
    Deployable(
        _local("chat"),
        "Chat: the chat app's conversations over Threads, their unread counts and agents' activity.",
        # Identity is served by users; without runners a chat's activity is not tracked.
        calls=("threads", "users", "runners"),
    ),
)

_missing = {service.name for service in SERVICES} - {deployable.name for deployable in DEPLOYABLES}
assert not _missing, f"services without a Kubernetes entry: {sorted(_missing)}"
