"""The runners deployable: RunnersService and WorkloadAccessService on one port."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
from agyn_common.bus import EVENTS
from agyn_common.cluster_admins import ClusterAdmins
from agyn_common.org_access import OrganizationAccess
from agyn_common.rooms import ROOMS
from agyn_common.server import Runtime, ServiceDefinition
from agyn_common.server import main as serve_main
from agynio.api.runners.v1 import access_pb2_grpc, runners_pb2_grpc

from agyn_runners.access import ACCESS, RUNNERS, WORKLOAD_ACCESS
from agyn_runners.credentials import RunnerCredentials, RunnerIdentities
from agyn_runners.events import RunnerEvents
from agyn_runners.models import metadata
from agyn_runners.names import NameSource
from agyn_runners.permissions import Permissions
from agyn_runners.rpc.runners import RunnerHandlers
from agyn_runners.rpc.volumes import VolumeHandlers
from agyn_runners.rpc.workload_access import WorkloadAccessHandlers
from agyn_runners.rpc.workloads import WorkloadHandlers
from agyn_runners.servicer import RunnersServicer, WorkloadAccessServicer
from agyn_runners.settings import RunnersSettings
from agyn_runners.sweep import ActivitySweep


def register(server: grpc.aio.Server, runtime: Runtime[RunnersSettings]) -> None:
    settings = runtime.settings
    organizations = OrganizationAccess(
        runtime.channels.channel(settings.organizations_address), ttl=settings.access_cache_seconds
    )
    organizations.attach(runtime.bus)
    users = runtime.channels.channel(settings.users_address)
    admins = ClusterAdmins(users, None, ttl=settings.access_cache_seconds)
    admins.attach(runtime.bus)
    permissions = Permissions(organizations, admins)
    events = RunnerEvents(runtime.outbox)
    names = NameSource(runtime.channels.channel(settings.agents_address))
    servicer = RunnersServicer(
        RunnerHandlers(runtime.db, permissions, RunnerIdentities(users), RunnerCredentials(users)),
        WorkloadHandlers(runtime.db, permissions, events, names, runtime.channels),
        VolumeHandlers(runtime.db, permissions, events, names),
    )
    runners_pb2_grpc.add_RunnersServiceServicer_to_server(servicer, server)
    access_pb2_grpc.add_WorkloadAccessServiceServicer_to_server(
        WorkloadAccessServicer(WorkloadAccessHandlers(runtime.db, permissions)), server
    )
    sweep = ActivitySweep(runtime.db, events, grace=settings.keepalive_grace)
    runtime.run_periodically("activity sweep", settings.workload_activity_sweep_interval, sweep.once)


DEFINITION = ServiceDefinition(
    name="runners",
    settings_type=RunnersSettings,
    access=ACCESS,
    grpc_services=(RUNNERS, WORKLOAD_ACCESS),
    register=register,
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    streams=(EVENTS, ROOMS),  # workload and volume envelopes go to the rooms stream
)


def main() -> None:
    sys.exit(serve_main(DEFINITION))


if __name__ == "__main__":
    main()
