"""What `make up` runs. Adding a service to the local platform is one entry here."""

from __future__ import annotations

from dataclasses import dataclass


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


SERVICES: tuple[LocalService, ...] = (
    LocalService(name="users", module="agyn_users"),
    LocalService(name="organizations", module="agyn_organizations"),
    LocalService(name="threads", module="agyn_threads"),
    LocalService(name="notifications", module="agyn_notifications", database=False),
    LocalService(name="gateway", module="agyn_gateway", database=False, port=8080),
    LocalService(name="agents", module="agyn_agents"),
    LocalService(name="files", module="agyn_files", object_store=True),
    LocalService(name="runners", module="agyn_runners"),
)

# The service whose `bootstrap-admin` command creates the local cluster admin.
ADMIN_SERVICE = "users"
