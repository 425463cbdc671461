"""Who is calling: the bearer credential resolved to an identity (gateway-auth-mesh §3.2 to §3.5).

Precedence: the bootstrap admin token (constant-time compare), then `agyn_` API tokens
through Users, then the `agynw_` (agent workload) and `agynr_` (runner) credentials that
stand in for OpenZiti identities, through the credential issuer Users serves (§3.6, DESIGN
§3), then OIDC access tokens. Resolved credentials are kept in a short cache keyed by the
SHA-256 of the bearer (§8 #3), never past the credential's own expiry; Users' events drop a
revoked token or workload credential, or a deleted user's credentials, at once, and while
the bus is away nothing is cached, so a revocation takes effect on the next request.

Failed authentications (and calls to the methods open to anonymous callers) spend from a
per-client bucket; an empty bucket answers RESOURCE_EXHAUSTED before Users is asked.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from agyn_common.bus import EVENTS_SUBJECT_PREFIX, Bus
from agyn_common.cache import TtlCache
from agyn_common.caller import WORKLOAD_ID_KEY, Caller
from agyn_common.credentials import (
    API_TOKEN_PREFIX,
    CREDENTIAL_REVOKED_EVENTS,
    WORKLOAD_CREDENTIAL_PREFIXES,
    revoked,
    secret_hash,
)
from agyn_common.errors import ServiceError, internal, resource_exhausted, unauthenticated
from agyn_common.ratelimit import RateLimiter
from agynio.api.identity.v1 import identity_pb2
from agynio.api.users.v1 import users_pb2, users_pb2_grpc
from agynio.api.ziti_management.v1 import ziti_management_pb2, ziti_management_pb2_grpc
from prometheus_client import Counter

from agyn_gateway.oidc import OidcProvider, VerifiedToken

log = logging.getLogger(__name__)

TOKEN_REVOKED_EVENTS = f"{EVENTS_SUBJECT_PREFIX}.users.api_token.revoked"
USER_DELETED_EVENTS = f"{EVENTS_SUBJECT_PREFIX}.users.user.deleted"
MAX_CACHED_CREDENTIALS = 10_000
# x-identity-type of what a workload credential resolves to (§2.3).
WORKLOAD_IDENTITY_TYPES = {
    identity_pb2.IDENTITY_TYPE_AGENT: "agent",
    identity_pb2.IDENTITY_TYPE_RUNNER: "runner",
    identity_pb2.IDENTITY_TYPE_APP: "app",
}
# RFC 6750's b64token: what API tokens and JWTs are made of. Anything else cannot be one.
_TOKEN_SYNTAX = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


@dataclass(frozen=True)
class Principal:
    identity_id: uuid.UUID
    identity_type: str  # the value of x-identity-type
    expires_at: float | None = None  # seconds since the epoch; None: never
    token_id: uuid.UUID | None = None  # the API token it came from
    workload_id: uuid.UUID | None = None  # the agent workload whose credential it came from

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """The caller metadata of §2.3, the only metadata a forwarded call carries."""
        pairs = Caller(self.identity_id, self.identity_type).outgoing_metadata()
        if self.workload_id is not None:
            pairs.append((WORKLOAD_ID_KEY, str(self.workload_id)))
        return tuple(pairs)


def bearer_token(authorization: str | None) -> str | None:
    """The token of `Authorization: Bearer <token>`; None when absent, blank or another scheme."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


class Authenticator:
    def __init__(
        self,
        users: grpc.aio.Channel,
        *,
        oidc: OidcProvider | None,
        bootstrap: tuple[str, uuid.UUID] | None,
        cache_seconds: float,
        anonymous_limiter: RateLimiter,
        refused: Counter | None = None,  # by credential kind (agyn_gateway.measures)
    ) -> None:
        self._refused = refused
        self._users = users_pb2_grpc.UsersServiceStub(users)
        self._issuer = ziti_management_pb2_grpc.ZitiManagementServiceStub(users)  # served by users
        self._oidc = oidc
        self._bootstrap = bootstrap
        self._cache_seconds = cache_seconds
        self._known: TtlCache[str, Principal] = TtlCache(
            ttl=cache_seconds, max_entries=MAX_CACHED_CREDENTIALS, needs_bus=True
        )
        self._anonymous = anonymous_limiter

    def attach(self, bus: Bus) -> None:
        """Enable the credential cache, kept true by Users' events."""
        self._known.follow(bus)
        self._known.drop_on(bus, TOKEN_REVOKED_EVENTS, _token_revoked)
        # Revoked workload credentials, or a deleted user: all of the identity's, or one workload's.
        identity_gone = revoked(_held_by)
        self._known.drop_on(bus, CREDENTIAL_REVOKED_EVENTS, identity_gone)
        self._known.drop_on(bus, USER_DELETED_EVENTS, identity_gone)

    async def authenticate(self, authorization: str | None, client: str) -> Principal | None:
        """The caller, or None for a request without a credential; UNAUTHENTICATED for a bad one."""
        token = bearer_token(authorization)
        if token is None:
            return None
        if self._bootstrap is not None and hmac.compare_digest(token.encode(), self._bootstrap[0].encode()):
            # §8 #5: the platform identity; services require it to hold the cluster admin role.
            return Principal(self._bootstrap[1], "platform")
        if not _TOKEN_SYNTAX.fullmatch(token):
            # Refused without asking anyone, so it spends nothing from the client's budget.
            self._count_refused("malformed")
            raise unauthenticated("malformed bearer token")
        key = secret_hash(token)  # also what Users stores for its tokens and credentials
        known = self._known.get(key)
        if known is not None and (known.expires_at is None or known.expires_at > time.time()):
            return known
        if not self._anonymous.available(client):
            raise resource_exhausted("too many failed authentications from this client; retry later")
        generation = self._known.generation
        kind, resolving = self._resolve(token, key)
        try:
            principal = await resolving
        except ServiceError as error:
            if error.code is grpc.StatusCode.UNAUTHENTICATED:
                self._anonymous.allow(client)
                self._count_refused(kind)
            raise
        if self._cache_seconds > 0:
            self._known.put(key, principal, generation)
        return principal

    def _resolve(self, token: str, key: str) -> tuple[str, Awaitable[Principal]]:
        """The kind of the bearer (as the refusal metric names it) and its resolution."""
        if token.startswith(API_TOKEN_PREFIX):
            return "api_token", self._api_token(key)
        if token.startswith(WORKLOAD_CREDENTIAL_PREFIXES):
            return "workload_credential", self._workload_credential(key)
        return "jwt", self._jwt(token)

    def _count_refused(self, credential: str) -> None:
        if self._refused is not None:
            self._refused.labels(credential).inc()

    def admit_anonymous(self, client: str) -> None:
        """A call to a method open to anonymous callers: RESOURCE_EXHAUSTED past the client's rate."""
        if not self._anonymous.allow(client):
            raise resource_exhausted("too many anonymous requests from this client; retry later")

    async def _api_token(self, token_hash: str) -> Principal:
        """Users keeps the hex SHA-256 of each token (§3.4), never the token."""
        request = users_pb2.ResolveAPITokenRequest(token_hash=token_hash)
        try:
            reply = await self._users.ResolveAPIToken(request)
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAUTHENTICATED):
                raise unauthenticated("invalid api token") from None
            raise
        if not reply.identity_id:
            raise internal("api token resolved to no identity")
        expires_at = reply.token.expires_at.ToSeconds() if reply.token.HasField("expires_at") else None
        return Principal(
            uuid.UUID(reply.identity_id),
            "user",
            expires_at=expires_at,
            token_id=uuid.UUID(reply.token.id) if reply.token.id else None,
        )

    async def _workload_credential(self, credential_hash: str) -> Principal:
        """Step 1 of §3.2 without OpenZiti: the issuer keeps the credential's hex SHA-256 as
        its `ziti_identity_id`."""
        request = ziti_management_pb2.ResolveIdentityRequest(ziti_identity_id=credential_hash)
        try:
            reply = await self._issuer.ResolveIdentity(request)
        except grpc.aio.AioRpcError as error:
            if error.code() is grpc.StatusCode.NOT_FOUND:
                raise unauthenticated("invalid workload credential") from None
            raise
        identity_type = WORKLOAD_IDENTITY_TYPES.get(reply.identity_type)
        if not reply.identity_id or identity_type is None:
            raise internal("workload credential resolved to no known identity")
        workload_id = uuid.UUID(reply.workload_id) if reply.HasField("workload_id") else None
        return Principal(uuid.UUID(reply.identity_id), identity_type, workload_id=workload_id)

    async def _jwt(self, token: str) -> Principal:
        if self._oidc is None:
            raise unauthenticated("oidc resolver is not configured")
        verified = await self._oidc.verify(token)
        try:
            reply = await self._users.GetUserByOIDCSubject(
                users_pb2.GetUserByOIDCSubjectRequest(oidc_subject=verified.subject)
            )
            user = reply.user
        except grpc.aio.AioRpcError as error:
            if error.code() is not grpc.StatusCode.NOT_FOUND:
                raise
            user = await self._provision(self._oidc, token, verified)
        return Principal(uuid.UUID(user.meta.id), "user", expires_at=verified.expires_at)

    async def _provision(self, oidc: OidcProvider, token: str, verified: VerifiedToken) -> users_pb2.User:
        """First sign-in: create the user from the token's profile (idempotent per subject)."""
        profile = await oidc.profile(token, verified)
        request = users_pb2.ResolveOrCreateUserRequest(
            oidc_subject=verified.subject, name=profile.name, email=profile.email, photo_url=profile.photo_url
        )
        if profile.preferred_username:
            request.preferred_username = profile.preferred_username
        reply: users_pb2.ResolveOrCreateUserResponse = await self._users.ResolveOrCreateUser(request)
        if reply.created:
            log.info("provisioned user %s on first sign-in", reply.user.meta.id)
        return reply.user


def _held_by(principal: Principal) -> tuple[uuid.UUID, uuid.UUID | None]:
    return principal.identity_id, principal.workload_id


def _token_revoked(data: Mapping[str, Any]) -> Callable[[Principal], bool]:
    token_id = uuid.UUID(data["token_id"])
    return lambda principal: principal.token_id == token_id
