"""The users deployable: UsersService, IdentityService and the credential issuer
(ZitiManagementService) on one port, one database."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
from agyn_common.org_access import OrganizationAccess
from agyn_common.ratelimit import RateLimiter
from agyn_common.server import Runtime, ServiceDefinition
from agyn_common.server import main as serve_main
from agynio.api.identity.v1 import identity_pb2_grpc
from agynio.api.users.v1 import users_pb2_grpc
from agynio.api.ziti_management.v1 import ziti_management_pb2_grpc

from agyn_users.access import ACCESS, IDENTITY, USERS, ZITI_MANAGEMENT
from agyn_users.bootstrap import BOOTSTRAP_ADMIN, ISSUE_TOKEN
from agyn_users.events import UserEvents
from agyn_users.models import metadata
from agyn_users.rpc.accounts import AccountHandlers
from agyn_users.rpc.api_tokens import ApiTokenHandlers
from agyn_users.rpc.devices import DeviceHandlers
from agyn_users.rpc.identities import IdentityHandlers
from agyn_users.rpc.nicknames import NicknameHandlers
from agyn_users.rpc.workload_credentials import WorkloadCredentialHandlers
from agyn_users.servicer import IdentityServicer, UsersServicer, ZitiManagementServicer
from agyn_users.settings import UsersSettings


def register(server: grpc.aio.Server, runtime: Runtime[UsersSettings]) -> None:
    database = runtime.db
    events = UserEvents(runtime.outbox)
    # Directory search is the one enumeration surface: 10 req/s, burst 20 per caller (sheet §8.4).
    search_limiter = RateLimiter(rate=10, burst=20)
    organizations = OrganizationAccess(
        runtime.channels.channel(runtime.settings.organizations_address),
        ttl=runtime.settings.access_cache_seconds,
    )
    organizations.attach(runtime.bus)
    users = UsersServicer(
        AccountHandlers(database, events, search_limiter),
        ApiTokenHandlers(database, events),
        DeviceHandlers(database),
    )
    identity = IdentityServicer(IdentityHandlers(database), NicknameHandlers(database, organizations))
    users_pb2_grpc.add_UsersServiceServicer_to_server(users, server)
    identity_pb2_grpc.add_IdentityServiceServicer_to_server(identity, server)
    issuer = ZitiManagementServicer(WorkloadCredentialHandlers(database, events))
    ziti_management_pb2_grpc.add_ZitiManagementServiceServicer_to_server(issuer, server)


DEFINITION = ServiceDefinition(
    name="users",
    settings_type=UsersSettings,
    access=ACCESS,
    grpc_services=(USERS, IDENTITY, ZITI_MANAGEMENT),
    register=register,
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
    commands={"bootstrap-admin": BOOTSTRAP_ADMIN, "issue-token": ISSUE_TOKEN},
)


def main() -> None:
    sys.exit(serve_main(DEFINITION))


if __name__ == "__main__":
    main()
