"""The threads deployable: ThreadsService and ThreadAccessService on one port."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
from agyn_common.agent_access import AgentAccess
from agyn_common.bus import EVENTS
from agyn_common.org_access import OrganizationAccess
from agyn_common.rooms import ROOMS
from agyn_common.server import Runtime, ServiceDefinition
from agyn_common.server import main as serve_main
from agynio.api.threads.v1 import access_pb2_grpc, threads_pb2_grpc

from agyn_threads.access import ACCESS, THREAD_ACCESS, THREADS
from agyn_threads.attachments import Attachments
from agyn_threads.identities import Identities
from agyn_threads.models import metadata
from agyn_threads.servicer import ThreadAccessServicer, ThreadsServicer
from agyn_threads.settings import ThreadsSettings


def register(server: grpc.aio.Server, runtime: Runtime[ThreadsSettings]) -> None:
    organizations = OrganizationAccess(
        runtime.channels.channel(runtime.settings.organizations_address),
        ttl=runtime.settings.access_cache_seconds,
    )
    organizations.attach(runtime.bus)
    agents = AgentAccess(
        runtime.channels.channel(runtime.settings.agents_address), ttl=runtime.settings.access_cache_seconds
    )
    agents.attach(runtime.bus)
    identities = Identities(runtime.channels.channel(runtime.settings.users_address))
    attachments = Attachments(runtime.channels.channel(runtime.settings.files_address))
    threads_pb2_grpc.add_ThreadsServiceServicer_to_server(
        ThreadsServicer(
            runtime.db, runtime.outbox, organizations, agents, identities, attachments, runtime.metrics
        ),
        server,
    )
    access_pb2_grpc.add_ThreadAccessServiceServicer_to_server(ThreadAccessServicer(runtime.db), server)


DEFINITION = ServiceDefinition(
    name="threads",
    settings_type=ThreadsSettings,
    access=ACCESS,
    grpc_services=(THREADS, THREAD_ACCESS),
    register=register,
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    streams=(EVENTS, ROOMS),  # message.created envelopes go to the rooms stream
)


def main() -> None:
    sys.exit(serve_main(DEFINITION))


if __name__ == "__main__":
    main()
