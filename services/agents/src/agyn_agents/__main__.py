"""The agents deployable: AgentsService."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
from agyn_common.bus import EVENTS
from agyn_common.db import Database
from agyn_common.org_access import OrganizationAccess
from agyn_common.outbox import Outbox
from agyn_common.rooms import ROOMS
from agyn_common.server import Runtime, ServiceDefinition
from agyn_common.server import main as serve_main
from agynio.api.agents.v1 import agents_pb2_grpc

from agyn_agents.access import ACCESS, AGENTS
from agyn_agents.events import AgentEvents
from agyn_agents.identity import AgentIdentities
from agyn_agents.models import metadata
from agyn_agents.permissions import AgentPermissions
from agyn_agents.rpc.agents import AgentHandlers
from agyn_agents.servicer import AgentsServicer
from agyn_agents.settings import AgentsSettings


class PlatformAgentsServicer(AgentsServicer):
    """AgentsServicer whose agents are platform identities (`identity`): Identity and
    Organizations are written to when an agent is created, renamed or deleted."""

    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        organizations: OrganizationAccess,
        identities: AgentIdentities,
    ) -> None:
        super().__init__(database, outbox, organizations)
        self._agents = AgentHandlers(
            database, AgentPermissions(organizations), AgentEvents(outbox), identities
        )


def register(server: grpc.aio.Server, runtime: Runtime[AgentsSettings]) -> None:
    organizations_channel = runtime.channels.channel(runtime.settings.organizations_address)
    organizations = OrganizationAccess(organizations_channel)
    organizations.attach(runtime.bus)
    identities = AgentIdentities(
        runtime.channels.channel(runtime.settings.users_address), organizations_channel
    )
    agents_pb2_grpc.add_AgentsServiceServicer_to_server(
        PlatformAgentsServicer(runtime.db, runtime.outbox, organizations, identities), server
    )


DEFINITION = ServiceDefinition(
    name="agents",
    settings_type=AgentsSettings,
    access=ACCESS,
    grpc_services=(AGENTS,),
    register=register,
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    streams=(EVENTS, ROOMS),  # agent.updated envelopes go to the rooms stream
)


def main() -> None:
    sys.exit(serve_main(DEFINITION))


if __name__ == "__main__":
    main()
