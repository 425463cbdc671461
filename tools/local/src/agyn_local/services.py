"""What `make up` runs. Adding a service to the local platform is one entry here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HttpPort:
    """A plain-HTTP port a service serves beside its gRPC one."""

    endpoint: str  # its key in endpoints.json (an http:// URL there), and its name in Kubernetes
    setting: str  # the variable that gives the service the port
    port: int  # under `make up` and in the chart (any free port with --base-port 0)


@dataclass(frozen=True)
class LocalService:
    # The key in endpoints.json, the database name, the log file name, and the prefix of
    # the `<NAME>_ADDRESS` variable every service is given to find this one.
    name: str
    module: str  # run as `python -m <module> serve`
    database: bool = True
    # Its own port instead of the next one after --base-port (the Gateway's front door).
    port: int | None = None
    # Keeps bytes in the embedded S3 store (SeaweedFS): given its endpoint and credentials.
    object_store: bool = False
    # Keeps files on disk: given `<NAME>_STATE_DIR`, a directory of its own in the state directory.
    state_dir: bool = False
    # Its settings under `make up` (unless the environment sets them): not given to the
    # platforms tests start from this table.
    settings: Mapping[str, str] = field(default_factory=dict, hash=False)
    # A runner daemon: `make up` starts it once the local admin exists, as the local cluster
    # runner (registered in Runners on the first run), which it enrolls as through the Gateway.
    local_runner: bool = False
    http_ports: tuple[HttpPort, ...] = ()


SERVICES: tuple[LocalService, ...] = (
    LocalService(name="users", module="agyn_users"),
    LocalService(name="organizations", module="agyn_organizations"),
    LocalService(name="threads", module="agyn_threads"),
    LocalService(name="notifications", module="agyn_notifications", database=False),
    LocalService(name="gateway", module="agyn_gateway", database=False, port=8080),
    LocalService(name="agents", module="agyn_agents"),
    LocalService(name="files", module="agyn_files", object_store=True),
    LocalService(name="runners", module="agyn_runners"),
    # The reference runner daemon; it runs what StartWorkload asks, as the user of `make up`
    # (the tests' platforms run nothing: they do not get these settings).
    LocalService(
        name="runner",
        module="agyn_runner",
        database=False,
        state_dir=True,
        settings={"RUNNER_ALLOWED_COMMANDS": "*"},
        local_runner=True,
    ),
    # OTLP/HTTP on OTLP's usual port, for collectors and SDKs that export over HTTP.
    LocalService(
        name="tracing",
        module="agyn_tracing",
        http_ports=(HttpPort("otlp-http", "OTLP_HTTP_PORT", 4318),),
    ),
    LocalService(name="chat", module="agyn_chat"),
)

# The service whose `bootstrap-admin` command creates the local cluster admin.
ADMIN_SERVICE = "users"
# Where the platform's services send their own spans under `make up` (OTLP/gRPC).
SPANS_SERVICE = "tracing"
