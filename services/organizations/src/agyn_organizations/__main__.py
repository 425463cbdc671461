"""The organizations deployable: OrganizationsService and OrganizationAccessService on one port."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
from agyn_common.cluster_admins import ClusterAdmins
from agyn_common.server import Runtime, ServiceDefinition
from agyn_common.server import main as serve_main
from agynio.api.organizations.v1 import access_pb2_grpc, organizations_pb2_grpc

from agyn_organizations.access import ACCESS, ORGANIZATION_ACCESS, ORGANIZATIONS
from agyn_organizations.departures import Departures
from agyn_organizations.events import OrganizationEvents
from agyn_organizations.models import metadata
from agyn_organizations.nicknames import Nicknames
from agyn_organizations.relations import Relations
from agyn_organizations.rpc.memberships import MembershipHandlers
from agyn_organizations.rpc.organization_access import OrganizationAccessHandlers
from agyn_organizations.rpc.organizations import OrganizationHandlers
from agyn_organizations.servicer import OrganizationAccessServicer, OrganizationsServicer
from agyn_organizations.settings import OrganizationsSettings


def register(server: grpc.aio.Server, runtime: Runtime[OrganizationsSettings]) -> None:
    users = runtime.channels.channel(runtime.settings.users_address)
    admins = ClusterAdmins(users, runtime.settings.platform_identity_id)
    admins.attach(runtime.bus)
    relations = Relations(admins.is_admin)
    events = OrganizationEvents(runtime.outbox)
    nicknames = Nicknames(users)
    Departures(runtime.db, events).attach(runtime.bus)
    organizations_pb2_grpc.add_OrganizationsServiceServicer_to_server(
        OrganizationsServicer(
            OrganizationHandlers(runtime.db, events, relations, nicknames),
            MembershipHandlers(runtime.db, events, relations, nicknames),
        ),
        server,
    )
    access_pb2_grpc.add_OrganizationAccessServiceServicer_to_server(
        OrganizationAccessServicer(OrganizationAccessHandlers(runtime.db, relations, events)), server
    )


DEFINITION = ServiceDefinition(
    name="organizations",
    settings_type=OrganizationsSettings,
    access=ACCESS,
    grpc_services=(ORGANIZATIONS, ORGANIZATION_ACCESS),
    register=register,
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
)


def main() -> None:
    sys.exit(serve_main(DEFINITION))


if __name__ == "__main__":
    main()
