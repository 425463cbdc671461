"""Authentication at the Gateway (gateway-auth-mesh §3.2 to §3.5): API tokens and their
revocation, OIDC against a test issuer that signs real tokens, the bootstrap token, spoofed
identity headers, and the budget of failed authentications."""

from __future__ import annotations

import asyncio
import time
import uuid

import grpc
import jwt
import pytest
from agyn_inprocess.gateway import USERS_GATEWAY
from agyn_testkit.harness import wait_until
from agynio.api.gateway.v1 import users_pb2_grpc as users_gateway
from agynio.api.users.v1 import users_pb2
from google.protobuf.timestamp_pb2 import Timestamp


async def me(gateway, token: str | None, **headers: str):
    sent = {**headers}
    if token is not None:
        sent["authorization"] = f"Bearer {token}"
    return await gateway.http.get(f"{gateway.url}/me", headers=sent)


async def test_requests_without_a_credential_are_refused(gateway):
    reply = await gateway.connect("GetMe", {})
    assert (reply.status_code, reply.json()["code"]) == (401, "unauthenticated")
    assert reply.json()["message"] == "identity not available"
    for authorization in ["Basic abc", "Bearer", "bearer", "Bearer a b"]:
        reply = await gateway.connect("GetMe", {}, authorization=authorization)
        assert reply.status_code == 401, authorization
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await users_gateway.UsersGatewayStub(channel).GetMe(users_pb2.GetMeRequest(), timeout=10)
    assert failure.value.code() == grpc.StatusCode.UNAUTHENTICATED
    problem = await me(gateway, None)
    assert problem.status_code == 401
    assert problem.headers["content-type"] == "application/problem+json"
    assert problem.json()["detail"] == "identity not available"


async def test_spoofed_identity_headers_are_never_forwarded(gateway):
    victim = await gateway.platform.admin()
    # Alone, identity headers authenticate nobody.
    spoofed = {"x-identity-id": str(victim), "x-identity-type": "user", "x-agyn-caller": "gateway"}
    reply = await gateway.connect("GetMe", {}, **spoofed)
    assert reply.status_code == 401
    # Next to a real credential, the credential's identity is what the service sees.
    caller = await gateway.platform.user("caller")
    token = await gateway.token_for(caller)
    reply = await gateway.connect("GetMe", {}, token, **spoofed)
    assert reply.json()["user"]["meta"]["id"] == str(caller)
    assert "clusterRole" not in reply.json()  # not the admin's answer
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        answer = await users_gateway.UsersGatewayStub(channel).GetMe(
            users_pb2.GetMeRequest(),
            metadata=(("authorization", f"Bearer {token}"), *spoofed.items()),
            timeout=10,
        )
    assert answer.user.meta.id == str(caller)


async def test_api_tokens_resolve_and_stop_working_when_revoked(gateway):
    user = await gateway.platform.user("tokens")
    token = await gateway.token_for(user)
    reply = await gateway.connect("GetMe", {}, token)
    assert reply.json()["user"]["meta"]["id"] == str(user)
    assert (await me(gateway, token)).json() == {"identity_id": str(user), "identity_type": "user"}
    # Revoked through the Gateway itself: the cached resolution is dropped by Users' event.
    (listed,) = (await gateway.connect("ListAPITokens", {}, token)).json()["tokens"]
    revoked = await gateway.connect("RevokeAPIToken", {"tokenId": listed["id"]}, token)
    assert revoked.status_code == 200

    async def refused() -> bool:
        return (await gateway.connect("GetMe", {}, token)).status_code == 401

    deadline = time.monotonic() + 5
    while not await refused():
        assert time.monotonic() < deadline, "a revoked token still works after 5 s"
    reply = await gateway.connect("GetMe", {}, token)
    assert reply.json()["message"] == "invalid api token"
    unknown = await gateway.connect("GetMe", {}, "agyn_" + "0" * 44)
    assert (unknown.status_code, unknown.json()["message"]) == (401, "invalid api token")


async def test_a_deleted_user_loses_access_at_once(gateway):
    admin = await gateway.platform.admin()
    admin_token = await gateway.token_for(admin)
    user = await gateway.platform.user("leaving")
    token = await gateway.token_for(user)
    assert (await gateway.connect("GetMe", {}, token)).status_code == 200  # now cached
    deleted = await gateway.connect("DeleteUser", {"identityId": str(user)}, admin_token)
    assert deleted.status_code == 200, deleted.text
    deadline = time.monotonic() + 5
    while (await gateway.connect("GetMe", {}, token)).status_code != 401:
        assert time.monotonic() < deadline


async def test_expired_api_tokens_are_refused(gateway):
    user = await gateway.platform.user("expiring")
    soon = Timestamp(seconds=int(time.time()) + 2)
    token = await gateway.token_for(user, expires_at=soon)
    assert (await gateway.connect("GetMe", {}, token)).status_code == 200
    await wait_until(lambda: time.time() > soon.seconds + 0.1, timeout=5)
    assert (
        await gateway.connect("GetMe", {}, token)
    ).status_code == 401  # the cache never outlives the token


async def test_bootstrap_token_is_the_platform_identity(gateway_with):
    identity = uuid.uuid4()
    async with gateway_with(
        cluster_admin_token="bootstrap-secret", cluster_admin_identity_id=identity
    ) as gateway:
        answer = (await me(gateway, "bootstrap-secret")).json()
        assert answer == {"identity_id": str(identity), "identity_type": "platform"}
        assert (await me(gateway, "bootstrap-secreT")).status_code == 401  # a near miss is an OIDC try


async def test_oidc_first_sign_in_provisions_the_user_then_finds_it(gateway_with, issuer):
    subject = f"oidc-{uuid.uuid4()}"
    issuer.profiles[subject] = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "preferred_username": "ada",
    }
    async with gateway_with(oidc_issuer_url=issuer.url, oidc_client_id="chat") as gateway:
        token = issuer.sign(subject)
        reply = await gateway.connect("GetMe", {}, token)
        assert reply.status_code == 200, reply.text
        user = reply.json()["user"]
        assert (user["oidcSubject"], user["name"], user["email"], user["username"]) == (
            subject,
            "Ada Lovelace",
            "ada@example.com",
            "ada",
        )
        # The next sign-in (a new token) finds the same user; profiles are not refreshed.
        issuer.profiles[subject]["name"] = "Changed"
        again = await gateway.connect("GetMe", {}, issuer.sign(subject, lifetime=600))
        assert again.json()["user"]["meta"]["id"] == user["meta"]["id"]
        assert again.json()["user"]["name"] == "Ada Lovelace"


async def test_oidc_profile_from_the_token_claims(gateway_with, issuer):
    subject = f"oidc-{uuid.uuid4()}"
    async with gateway_with(
        oidc_issuer_url=issuer.url, oidc_client_id="cli", oidc_profile_source="token", oidc_audience="agyn"
    ) as gateway:
        token = issuer.sign(
            subject, aud="agyn", name="Grace", email="grace@example.com", picture="https://p/g.png"
        )
        user = (await gateway.connect("GetMe", {}, token)).json()["user"]
        assert (user["name"], user["email"], user["photoUrl"]) == (
            "Grace",
            "grace@example.com",
            "https://p/g.png",
        )
        wrong_audience = await gateway.connect("GetMe", {}, issuer.sign(subject, aud="other"))
        assert wrong_audience.status_code == 401
        assert "audience" in wrong_audience.json()["message"].lower()
        no_audience = await gateway.connect("GetMe", {}, issuer.sign(subject))
        assert no_audience.status_code == 401


async def test_oidc_tokens_are_verified(gateway_with, issuer):
    subject = f"oidc-{uuid.uuid4()}"
    async with gateway_with(oidc_issuer_url=issuer.url, oidc_client_id="chat") as gateway:
        assert (await gateway.connect("GetMe", {}, issuer.sign(subject))).status_code == 200
        forged_key = issuer.keys[next(iter(issuer.keys))]
        refused = {
            "expired": issuer.sign(subject, lifetime=-10),
            "other issuer": issuer.sign(subject, issuer="https://evil.example.com"),
            "no subject": issuer.sign(" "),
            "unknown key": jwt.encode(
                {"iss": issuer.url, "sub": subject, "exp": int(time.time()) + 60},
                forged_key,
                "RS256",
                {"kid": "nope"},
            ),
            "shared secret": jwt.encode(
                {"iss": issuer.url, "sub": subject, "exp": int(time.time()) + 60},
                "a" * 32,
                "HS256",
                {"kid": next(iter(issuer.keys))},
            ),
            "unsigned": jwt.encode(
                {"iss": issuer.url, "sub": subject}, None, "none", {"kid": next(iter(issuer.keys))}
            ),
            "not a jwt": "not-a-jwt",
        }
        for case, token in refused.items():
            reply = await gateway.connect("GetMe", {}, token)
            assert reply.status_code == 401, case
            assert reply.json()["message"].startswith("invalid bearer token"), (case, reply.json())


async def test_oidc_keys_are_fetched_again_when_the_issuer_rotates(gateway_with, issuer):
    subject = f"oidc-{uuid.uuid4()}"
    async with gateway_with(oidc_issuer_url=issuer.url, oidc_client_id="chat") as gateway:
        assert (await gateway.connect("GetMe", {}, issuer.sign(subject))).status_code == 200
        fetches = issuer.jwks_fetches
        for _ in range(3):  # known keys: no more fetches
            assert (await gateway.connect("GetMe", {}, issuer.sign(subject))).status_code == 200
        assert issuer.jwks_fetches == fetches
        new_key = issuer.rotate()
        reply = await gateway.connect("GetMe", {}, issuer.sign(subject, key_id=new_key))
        assert reply.status_code == 200
        assert issuer.jwks_fetches == fetches + 1


async def test_a_key_the_issuer_withdraws_stops_verifying_once_the_keys_are_old(gateway_with, issuer):
    subject = f"oidc-{uuid.uuid4()}"
    max_age = 0.5
    async with gateway_with(
        oidc_issuer_url=issuer.url,
        oidc_client_id="chat",
        oidc_jwks_max_age_seconds=max_age,
        credential_cache_seconds=0,  # every request verifies its token
    ) as gateway:
        withdrawn = next(iter(issuer.keys))
        token = issuer.sign(subject, key_id=withdrawn)
        assert (await gateway.connect("GetMe", {}, token)).status_code == 200
        fetches = issuer.jwks_fetches
        current = issuer.rotate()
        issuer.withdraw(withdrawn)
        await asyncio.sleep(max_age * 1.5)  # the keys fetched before the withdrawal are now too old
        reply = await gateway.connect("GetMe", {}, token)
        assert reply.status_code == 401
        assert reply.json()["message"] == "invalid bearer token: unknown signing key"
        assert issuer.jwks_fetches > fetches
        assert (await gateway.connect("GetMe", {}, issuer.sign(subject, key_id=current))).status_code == 200


async def test_jwts_need_oidc_configured(gateway, issuer):
    reply = await gateway.connect("GetMe", {}, issuer.sign("someone"))
    assert (reply.status_code, reply.json()["message"]) == (401, "oidc resolver is not configured")


async def test_failed_authentications_are_rate_limited_per_client(gateway_with):
    async with gateway_with(anonymous_burst=3, anonymous_rate_per_second=0.01) as gateway:
        user = await gateway.platform.user("limited")
        token = await gateway.token_for(user)
        assert (await gateway.connect("GetMe", {}, token)).status_code == 200  # cached from here on
        codes = [
            (await gateway.connect("GetMe", {}, f"agyn_{uuid.uuid4().hex}")).json()["code"] for _ in range(5)
        ]
        assert codes == ["unauthenticated"] * 3 + ["resource_exhausted"] * 2
        reply = await gateway.connect("GetMe", {}, f"agyn_{uuid.uuid4().hex}")
        assert reply.status_code == 429
        # A credential already known keeps working from the same client.
        assert (await gateway.connect("GetMe", {}, token)).status_code == 200


async def test_anonymous_methods_are_forwarded_without_identity_and_rate_limited(gateway_with):
    # No method of the services served today is open to anonymous callers (EnrollRunner and
    # EnrollApp come with Runners and Apps), so the test opens one to see the mechanism work.
    opened = f"/{USERS_GATEWAY}/SearchUsers"
    async with gateway_with(anonymous_methods=frozenset({opened}), anonymous_burst=2) as gateway:
        codes = [(await gateway.connect("SearchUsers", {"query": "x"})).json()["code"] for _ in range(3)]
        # Forwarded without identity, so Users itself refuses; then the budget is spent.
        assert codes == ["unauthenticated", "unauthenticated", "resource_exhausted"]
