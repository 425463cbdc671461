"""The agents deployable: AgentsService."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
from agyn_common.bus import EVENTS
from agyn_common.org_access import OrganizationAccess
from agyn_common.rooms import ROOMS
from agyn_common.server import Runtime, ServiceDefinition
from agyn_common.server import main as serve_main
from agynio.api.agents.v1 import access_pb2_grpc, agents_pb2_grpc

from agyn_agents.access import ACCESS, AGENT_ACCESS, AGENTS
from agyn_agents.identity import AgentIdentities
from agyn_agents.models import metadata
from agyn_agents.servicer import AgentAccessServicer, AgentsServicer
from agyn_agents.settings import AgentsSettings


def register(server: grpc.aio.Server, runtime: Runtime[AgentsSettings]) -> None:
    organizations_channel = runtime.channels.channel(runtime.settings.organizations_address)
    organizations = OrganizationAccess(organizations_channel, ttl=runtime.settings.access_cache_seconds)
    organizations.attach(runtime.bus)
    identities = AgentIdentities(
        runtime.channels.channel(runtime.settings.users_address), organizations_channel
    )
    agents_pb2_grpc.add_AgentsServiceServicer_to_server(
        AgentsServicer(runtime.db, runtime.outbox, organizations, identities), server
    )
    access_pb2_grpc.add_AgentAccessServiceServicer_to_server(
        AgentAccessServicer(runtime.db, organizations), server
    )


DEFINITION = ServiceDefinition(
    name="agents",
    settings_type=AgentsSettings,
    access=ACCESS,
    grpc_services=(AGENTS, AGENT_ACCESS),
    register=register,
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    streams=(EVENTS, ROOMS),  # agent.updated envelopes go to the rooms stream
)


def main() -> None:
    sys.exit(serve_main(DEFINITION))


if __name__ == "__main__":
    main()
