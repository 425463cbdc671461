"""Who exports: an agent's workload credential resolved to its agent and organization
(files-tracing B.3.2 step 1, DESIGN §3 in place of the OpenZiti dialer identity).

Resolutions are kept (B.6) and dropped as soon as Users announces the credential revoked, as
the Gateway does; while the bus is away nothing is kept, since a revocation would go unheard.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import grpc
from agyn_common.bus import Bus
from agyn_common.cache import TtlCache
from agyn_common.caller import Metadata, metadata_values
from agyn_common.credentials import CREDENTIAL_REVOKED_EVENTS, revoked, secret_hash
from agyn_common.errors import dependency_unavailable, unauthenticated
from agynio.api.agents.v1 import agents_pb2, agents_pb2_grpc
from agynio.api.identity.v1 import identity_pb2
from agynio.api.ziti_management.v1 import ziti_management_pb2, ziti_management_pb2_grpc

IDENTITY_ID = "agyn.identity.id"
AGENT_ID = "agyn.agent.id"
ORGANIZATION_ID = "agyn.organization.id"
WORKLOAD_ID = "agyn.workload.id"
# Only the service sets these; a producer's own values are dropped.
INJECTED = (IDENTITY_ID, AGENT_ID, ORGANIZATION_ID)


@dataclass(frozen=True)
class Exporter:
    identity_id: uuid.UUID
    agent_id: str
    organization_id: str
    workload_id: uuid.UUID | None

    def attributes(self) -> list[tuple[str, str]]:
        pairs = [
            (IDENTITY_ID, str(self.identity_id)),
            (AGENT_ID, self.agent_id),
            (ORGANIZATION_ID, self.organization_id),
        ]
        if self.workload_id is not None:
            pairs.append((WORKLOAD_ID, str(self.workload_id)))
        return pairs


def bearer(metadata: Metadata) -> str | None:
    """The token of `authorization: Bearer <token>`, None when the call has none."""
    values = metadata_values(metadata, "authorization")
    if not values:
        return None
    if len(values) > 1:
        raise unauthenticated("expected a single authorization header")
    scheme, _, token = values[0].strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("expected a bearer credential")
    return token.strip()


class ExporterResolver:
    def __init__(
        self, users: grpc.aio.Channel, agents: grpc.aio.Channel, *, ttl: float, max_entries: int
    ) -> None:
        self._issuer = ziti_management_pb2_grpc.ZitiManagementServiceStub(users)
        self._agents = agents_pb2_grpc.AgentsServiceStub(agents)
        self._known: TtlCache[str, Exporter] = TtlCache(ttl=ttl, max_entries=max_entries, needs_bus=True)

    def attach(self, bus: Bus) -> None:
        """Enable the cache, kept true by Users' revocations."""
        self._known.follow(bus)
        self._known.drop_on(
            bus,
            CREDENTIAL_REVOKED_EVENTS,
            revoked(lambda exporter: (exporter.identity_id, exporter.workload_id)),
        )

    async def resolve(self, credential: str) -> Exporter:
        """The agent behind a workload credential; UNAUTHENTICATED for anything else."""
        key = secret_hash(credential)
        known = self._known.get(key)
        if known is not None:
            return known
        generation = self._known.generation
        try:
            identity = await self._issuer.ResolveIdentity(
                ziti_management_pb2.ResolveIdentityRequest(ziti_identity_id=key)
            )
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                raise unauthenticated("invalid workload credential") from None
            raise dependency_unavailable("users", error) from error
        if identity.identity_type != identity_pb2.IDENTITY_TYPE_AGENT:
            raise unauthenticated("only agents export spans")
        try:
            agent = await self._agents.ResolveAgentIdentity(
                agents_pb2.ResolveAgentIdentityRequest(identity_id=identity.identity_id)
            )
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                raise unauthenticated("the credential's agent is gone") from None
            raise dependency_unavailable("agents", error) from error
        exporter = Exporter(
            uuid.UUID(identity.identity_id),
            agent.agent_id,
            agent.organization_id,
            uuid.UUID(identity.workload_id) if identity.HasField("workload_id") else None,
        )
        self._known.put(key, exporter, generation)
        return exporter
