"""Who is calling: the bearer credential resolved to an identity (gateway-auth-mesh §3.2 to §3.5).

Precedence: the bootstrap admin token (constant-time compare), then `agyn_` API tokens
through Users, then OIDC access tokens. Resolved credentials are kept in a short cache
keyed by the SHA-256 of the bearer (§8 #3), never past the credential's own expiry; Users'
events drop a revoked token or a deleted user's credentials at once, and while the bus is
away nothing is cached, so a revocation takes effect on the next request.

Failed authentications (and calls to the methods open to anonymous callers) spend from a
per-client bucket; an empty bucket answers RESOURCE_EXHAUSTED before Users is asked.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass

import grpc
from agyn_common.bus import EVENTS_SUBJECT_PREFIX, Bus
from agyn_common.cache import TtlCache
from agyn_common.caller import Caller
from agyn_common.errors import ServiceError, internal, resource_exhausted, unauthenticated
from agyn_common.ratelimit import RateLimiter
from agynio.api.users.v1 import users_pb2, users_pb2_grpc
from nats.aio.msg import Msg
from prometheus_client import Counter

from agyn_gateway.oidc import OidcProvider, VerifiedToken

log = logging.getLogger(__name__)

API_TOKEN_PREFIX = "agyn_"
TOKEN_REVOKED_EVENTS = f"{EVENTS_SUBJECT_PREFIX}.users.api_token.revoked"
USER_DELETED_EVENTS = f"{EVENTS_SUBJECT_PREFIX}.users.user.deleted"
MAX_CACHED_CREDENTIALS = 10_000
# RFC 6750's b64token: what API tokens and JWTs are made of. Anything else cannot be one.
_TOKEN_SYNTAX = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


@dataclass(frozen=True)
class Principal:
    identity_id: uuid.UUID
    identity_type: str  # the value of x-identity-type
    expires_at: float | None = None  # seconds since the epoch; None: never
    token_id: uuid.UUID | None = None  # the API token it came from

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """The caller metadata of §2.3, the only metadata a forwarded call carries."""
        return tuple(Caller(self.identity_id, self.identity_type).outgoing_metadata())


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
        bus.subscribe(TOKEN_REVOKED_EVENTS, self._on_event)
        bus.subscribe(USER_DELETED_EVENTS, self._on_event)

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
        key = hashlib.sha256(token.encode()).hexdigest()  # also what Users stores for API tokens
        known = self._known.get(key)
        if known is not None and (known.expires_at is None or known.expires_at > time.time()):
            return known
        if not self._anonymous.available(client):
            raise resource_exhausted("too many failed authentications from this client; retry later")
        generation = self._known.generation
        try:
            principal = await (
                self._api_token(key) if token.startswith(API_TOKEN_PREFIX) else self._jwt(token)
            )
        except ServiceError as error:
            if error.code is grpc.StatusCode.UNAUTHENTICATED:
                self._anonymous.allow(client)
                self._count_refused("api_token" if token.startswith(API_TOKEN_PREFIX) else "jwt")
            raise
        if self._cache_seconds > 0:
            self._known.put(key, principal, generation)
        return principal

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

    def _forget(self, *, token_id: uuid.UUID | None, identity_id: uuid.UUID | None) -> None:
        self._known.drop_entries_where(
            lambda _key, principal: (
                (token_id is not None and principal.token_id == token_id)
                or (identity_id is not None and principal.identity_id == identity_id)
            )
        )

    async def _on_event(self, message: Msg) -> None:
        try:
            data = json.loads(message.data)["data"]
            token_id = uuid.UUID(data["token_id"]) if data.get("token_id") else None
            identity_id = uuid.UUID(data["identity_id"]) if data.get("identity_id") else None
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("unreadable event on %s; dropping every cached credential", message.subject)
            self._known.clear()
            return
        if message.subject == TOKEN_REVOKED_EVENTS:
            self._forget(token_id=token_id, identity_id=None)
        else:
            self._forget(token_id=None, identity_id=identity_id)
