"""The notifications deployable: NotificationsService, stateless, on the rooms stream."""

from __future__ import annotations

import sys

import grpc
from agyn_common.agent_access import AgentAccess
from agyn_common.bus import EVENTS
from agyn_common.org_access import OrganizationAccess
from agyn_common.rooms import ROOMS
from agyn_common.server import Runtime, ServiceDefinition
from agyn_common.server import main as serve_main
from agynio.api.notifications.v1 import notifications_pb2_grpc

from agyn_notifications.access import ACCESS, NOTIFICATIONS
from agyn_notifications.record_organizations import runner_records, trace_records
from agyn_notifications.rooms_access import RoomAccess
from agyn_notifications.servicer import NotificationsServicer
from agyn_notifications.settings import NotificationsSettings
from agyn_notifications.streams import Streams


def register(server: grpc.aio.Server, runtime: Runtime[NotificationsSettings]) -> None:
    settings = runtime.settings
    organizations = OrganizationAccess(
        runtime.channels.channel(settings.organizations_address), ttl=runtime.settings.access_cache_seconds
    )
    organizations.attach(runtime.bus)
    agents = AgentAccess(
        runtime.channels.channel(settings.agents_address), ttl=runtime.settings.access_cache_seconds
    )
    agents.attach(runtime.bus)
    runners = (
        runner_records(runtime.channels.channel(settings.runners_address))
        if settings.runners_address
        else None
    )
    traces = (
        trace_records(runtime.channels.channel(settings.tracing_address))
        if settings.tracing_address
        else None
    )
    streams = Streams(runtime.bus, settings.max_streams_per_identity, runtime.metrics)
    # Streams never end on their own: once the server takes no new calls (after the lame duck,
    # during which they still deliver), end them, not after the whole grace period.
    runtime.on_stopping(lambda: streams.close("the server is stopping; resume with the last cursor"))
    notifications_pb2_grpc.add_NotificationsServiceServicer_to_server(
        NotificationsServicer(
            runtime.bus,
            RoomAccess(organizations, agents, runners, traces),
            streams,
            buffer_size=settings.stream_buffer_size,
        ),
        server,
    )


DEFINITION = ServiceDefinition(
    name="notifications",
    settings_type=NotificationsSettings,
    access=ACCESS,
    grpc_services=(NOTIFICATIONS,),
    register=register,
    metadata=None,  # no database: rooms live on NATS
    streams=(EVENTS, ROOMS),  # the owner of the rooms stream declares it
)


def main() -> None:
    sys.exit(serve_main(DEFINITION))


if __name__ == "__main__":
    main()
