"""OIDC access tokens verified against the issuer's JWKS (gateway-auth-mesh §3.3).

The issuer's metadata is discovered on first use (and warmed at start); its keys are
cached and fetched again when a token names a key id we do not know (key rotation), at
most once per `refetch_interval` so that forged key ids cannot make us hammer the IdP.
Keys older than `max_age` are fetched again before a token is verified, so a key the
issuer withdraws stops verifying within that time; until the issuer answers again, OIDC
tokens are refused (UNAVAILABLE) rather than checked against keys it may have withdrawn.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import jwt
from agyn_common.errors import ServiceError, error_info, internal, unauthenticated

log = logging.getLogger(__name__)

HTTP_TIMEOUT_SECONDS = 10.0
MAX_BODY_BYTES = 1 << 20
CLOCK_SKEW_SECONDS = 1
# Only signature algorithms with public keys: never `none`, never a shared secret.
ALGORITHMS_BY_KEY_TYPE = {
    "RSA": {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"},
    "EC": {"ES256", "ES384", "ES512"},
    "OKP": {"EdDSA"},
}


@dataclass(frozen=True)
class SigningKey:
    key_type: str  # the JWK `kty`
    key: Any


@dataclass(frozen=True)
class VerifiedToken:
    subject: str
    expires_at: float  # seconds since the epoch
    claims: dict[str, Any]


@dataclass(frozen=True)
class Profile:
    name: str
    email: str
    photo_url: str
    preferred_username: str


@dataclass(frozen=True)
class ClaimNames:
    name: str = "name"
    email: str = "email"
    picture: str = "picture"
    username: str = "preferred_username"


def _provider_unavailable(what: str) -> ServiceError:
    return ServiceError(
        grpc.StatusCode.UNAVAILABLE,
        f"the identity provider is unavailable: {what}",
        [error_info("DEPENDENCY_UNAVAILABLE", {"dependency": "oidc"})],
    )


async def _get_json(http: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None) -> Any:
    """GET a JSON document of at most 1 MiB; ValueError or httpx.HTTPError when it fails."""
    async with http.stream("GET", url, headers=headers, timeout=HTTP_TIMEOUT_SECONDS) as response:
        if response.status_code != 200:
            raise ValueError(f"{url} answered HTTP {response.status_code}")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise ValueError(f"{url} answered more than {MAX_BODY_BYTES} bytes")
    return json.loads(body)


class OidcProvider:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        issuer: str,
        audience: str | None,
        profile_source: str,
        claims: ClaimNames,
        refetch_interval: float = 5.0,
        max_age: float = 300.0,
    ) -> None:
        self._http = http
        self._issuer = issuer
        self._audience = audience
        self._profile_source = profile_source
        self._claims = claims
        self._refetch_interval = refetch_interval
        self._max_age = max_age
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str, SigningKey] = {}
        self._keys_fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def warm(self) -> None:
        """Discover the issuer and fetch its keys ahead of the first token; failures are retried later."""
        try:
            await self._fetch_keys()
        except ServiceError as error:
            log.warning("oidc issuer not ready yet: %s", error.message)

    async def verify(self, token: str) -> VerifiedToken:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise unauthenticated(f"invalid bearer token: {error}") from None
        key = await self._key_for(header.get("kid"))
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS_BY_KEY_TYPE.get(key.key_type, set()):
            raise unauthenticated(f"invalid bearer token: algorithm {algorithm!r} is not accepted")
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[algorithm],
                issuer=self._issuer,
                audience=self._audience,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iss", "sub"], "verify_aud": self._audience is not None},
            )
        except jwt.InvalidTokenError as error:
            raise unauthenticated(f"invalid bearer token: {error}") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip():
            raise unauthenticated("invalid bearer token: no subject")
        return VerifiedToken(subject=subject, expires_at=float(claims["exp"]), claims=claims)

    async def profile(self, token: str, verified: VerifiedToken) -> Profile:
        """The profile a first sign-in provisions the user with (claims are read only then)."""
        claims = verified.claims
        if self._profile_source == "userinfo":
            claims = await self._userinfo(token, verified.subject)

        def text(name: str) -> str:
            value = claims.get(name)
            return value if isinstance(value, str) else ""

        return Profile(
            name=text(self._claims.name),
            email=text(self._claims.email),
            photo_url=text(self._claims.picture),
            preferred_username=text(self._claims.username),
        )

    async def _userinfo(self, token: str, subject: str) -> dict[str, Any]:
        metadata = await self._discover()
        endpoint = metadata.get("userinfo_endpoint")
        try:
            if not isinstance(endpoint, str):
                raise ValueError("the issuer has no userinfo_endpoint")
            info = await _get_json(self._http, endpoint, {"Authorization": f"Bearer {token}"})
            if not isinstance(info, dict) or info.get("sub") != subject:
                raise ValueError("userinfo is not about the token's subject")
        except (httpx.HTTPError, ValueError) as error:
            log.warning("userinfo failed: %s", error)
            raise internal("failed to fetch user info") from None
        return info

    async def _discover(self) -> dict[str, Any]:
        if self._metadata is None:
            url = self._issuer.rstrip("/") + "/.well-known/openid-configuration"
            try:
                metadata = await _get_json(self._http, url)
            except (httpx.HTTPError, ValueError) as error:
                raise _provider_unavailable(f"discovery failed: {error}") from None
            if not isinstance(metadata, dict) or not isinstance(metadata.get("jwks_uri"), str):
                raise _provider_unavailable("the issuer's metadata has no jwks_uri")
            self._metadata = metadata
        return self._metadata

    def _keys_expired(self) -> bool:
        return not self._keys or time.monotonic() - self._keys_fetched_at >= self._max_age

    async def _key_for(self, key_id: object) -> SigningKey:
        if self._keys_expired():
            async with self._lock:
                if self._keys_expired():
                    await self._fetch_keys()
        if key_id is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        if not isinstance(key_id, str):
            raise unauthenticated("invalid bearer token: no key id")
        if key_id not in self._keys:
            async with self._lock:  # one refetch for a burst of tokens signed with a new key
                if (
                    key_id not in self._keys
                    and time.monotonic() - self._keys_fetched_at >= self._refetch_interval
                ):
                    await self._fetch_keys()
        key = self._keys.get(key_id)
        if key is None:
            raise unauthenticated("invalid bearer token: unknown signing key")
        return key

    async def _fetch_keys(self) -> None:
        metadata = await self._discover()
        try:
            document = await _get_json(self._http, metadata["jwks_uri"])
            entries = document["keys"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            raise _provider_unavailable(f"fetching the keys failed: {error}") from None
        keys = {}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK(entry).key
            except (jwt.PyJWKError, jwt.InvalidKeyError) as error:
                log.warning("skipping an unusable key in the issuer's JWKS: %s", error)
                continue
            keys[str(entry.get("kid", ""))] = SigningKey(str(entry.get("kty")), key)
        self._keys = keys
        self._keys_fetched_at = time.monotonic()
