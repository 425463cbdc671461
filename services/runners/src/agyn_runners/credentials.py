"""A runner's identity and credentials (sheet §3.1; DESIGN §3: no OpenZiti).

Registration makes the runner an identity in Identity (the users deployable). Enrollment
trades the service token for a bearer credential (`agynr_...`) minted by the credential
issuer, which the users deployable serves as `ZitiManagementService.CreateRunnerIdentity`
(DESIGN §3); deleting the runner revokes it there.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid

import grpc
from agyn_common.errors import dependency_unavailable
from agynio.api.identity.v1 import identity_pb2, identity_pb2_grpc
from agynio.api.ziti_management.v1 import ziti_management_pb2, ziti_management_pb2_grpc

log = logging.getLogger(__name__)


def new_service_token() -> str:
    """32 random bytes as 64 lowercase hex characters (sheet §3.1)."""
    return secrets.token_hex(32)


def token_hash(token: str) -> str:
    """What is stored of a token, and looked up by: its SHA-256 in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


# Upstream's issuer wants at least one OpenZiti role attribute; ours keeps none.
ROLE_ATTRIBUTES = ("runners",)


class RunnerCredentials:
    """The credential issuer of the users deployable (platform calls: no identity)."""

    def __init__(self, users: grpc.aio.Channel) -> None:
        self._issuer = ziti_management_pb2_grpc.ZitiManagementServiceStub(users)

    async def issue(self, runner_id: uuid.UUID) -> tuple[bytes, str]:
        """A fresh credential for the runner, its earlier ones revoked, and the credential's id."""
        try:
            reply = await self._issuer.CreateRunnerIdentity(
                ziti_management_pb2.CreateRunnerIdentityRequest(
                    runner_id=str(runner_id), role_attributes=ROLE_ATTRIBUTES
                )
            )
        except grpc.aio.AioRpcError as error:
            raise dependency_unavailable("users", error) from error
        return reply.identity_json, reply.ziti_identity_id

    async def revoke(self, runner_id: uuid.UUID) -> None:
        """Best effort: a deleted runner's credential stops resolving (NOT_FOUND: it had none)."""
        try:
            await self._issuer.DeleteRunnerIdentity(
                ziti_management_pb2.DeleteRunnerIdentityRequest(identity_id=str(runner_id))
            )
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:
                log.warning("could not revoke the credential of runner %s: %s", runner_id, error.details())


class RunnerIdentities:
    def __init__(self, users: grpc.aio.Channel) -> None:
        self._identity = identity_pb2_grpc.IdentityServiceStub(users)

    async def register(self, runner_id: uuid.UUID) -> None:
        """Identity learns the runner's id as a runner's (a platform call: no identity)."""
        try:
            await self._identity.RegisterIdentity(
                identity_pb2.RegisterIdentityRequest(
                    identity_id=str(runner_id), identity_type=identity_pb2.IDENTITY_TYPE_RUNNER
                )
            )
        except grpc.aio.AioRpcError as error:
            raise dependency_unavailable("users", error) from error
