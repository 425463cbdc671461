"""A runner's identity and credentials (sheet §3.1; DESIGN §3: no OpenZiti).

Registration makes the runner an identity in Identity (the users deployable). Enrollment
trades the service token for a bearer credential minted by the credential issuer, which the
users deployable serves as `ZitiManagementService.CreateRunnerIdentity` (DESIGN §3); until it
is there, `RunnerCredentials.issue` answers UNAVAILABLE, and tests hand in an issuer of
their own.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Protocol

import grpc
from agyn_common.errors import ServiceError, dependency_unavailable
from agynio.api.identity.v1 import identity_pb2, identity_pb2_grpc


def new_service_token() -> str:
    """32 random bytes as 64 lowercase hex characters (sheet §3.1)."""
    return secrets.token_hex(32)


def token_hash(token: str) -> str:
    """What is stored of a token, and looked up by: its SHA-256 in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


class CredentialIssuer(Protocol):
    async def issue(self, runner_id: uuid.UUID) -> tuple[bytes, str]:
        """A fresh credential for the runner (replacing any earlier one) and its id."""


class RunnerCredentials:
    """The credential issuer of the users deployable; not wired yet."""

    async def issue(self, runner_id: uuid.UUID) -> tuple[bytes, str]:
        raise ServiceError(grpc.StatusCode.UNAVAILABLE, "credential issuer not wired yet")


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
