"""API tokens (create, list, revoke, resolve) and devices."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import grpc
from agyn_inprocess.users import provision, sha256_hex
from agyn_testkit.calls import expect_error, metadata
from agynio.api.users.v1 import users_pb2
from google.protobuf.timestamp_pb2 import Timestamp

INVALID = grpc.StatusCode.INVALID_ARGUMENT
TOKEN_FORMAT = re.compile(r"^agyn_[0-9A-Za-z]{44}$")


def stamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


async def test_token_lifecycle_create_resolve_revoke(users_service):
    user = await provision(users_service)
    me = metadata(identity=user.meta.id)
    created = await users_service.users.CreateAPIToken(
        users_pb2.CreateAPITokenRequest(name="ci"), metadata=me
    )
    assert TOKEN_FORMAT.match(created.plaintext_token)
    assert created.token.token_prefix == created.plaintext_token[:8]
    assert not created.token.HasField("expires_at") and not created.token.HasField("last_used_at")
    token_hash = sha256_hex(created.plaintext_token)

    resolved = await users_service.users.ResolveAPIToken(
        users_pb2.ResolveAPITokenRequest(token_hash=token_hash), metadata=metadata()
    )
    assert resolved.identity_id == user.meta.id
    assert resolved.token.id == created.token.id
    assert resolved.token.HasField("last_used_at")
    listed = await users_service.users.ListAPITokens(users_pb2.ListAPITokensRequest(), metadata=me)
    assert [token.id for token in listed.tokens] == [created.token.id]
    assert listed.tokens[0].last_used_at == resolved.token.last_used_at

    await users_service.users.RevokeAPIToken(
        users_pb2.RevokeAPITokenRequest(token_id=created.token.id), metadata=me
    )
    await expect_error(
        users_service.users.ResolveAPIToken(
            users_pb2.ResolveAPITokenRequest(token_hash=token_hash), metadata=metadata()
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_error(
        users_service.users.RevokeAPIToken(
            users_pb2.RevokeAPITokenRequest(token_id=created.token.id), metadata=me
        ),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_expired_token_is_unauthenticated_and_untouched(users_service):
    user = await provision(users_service)
    me = metadata(identity=user.meta.id)
    created = await users_service.users.CreateAPIToken(
        users_pb2.CreateAPITokenRequest(
            name="short", expires_at=stamp(datetime.now(UTC) + timedelta(seconds=1))
        ),
        metadata=me,
    )
    async with users_service.running.runtime.db.transaction() as connection:
        from agyn_users.models import user_api_tokens

        await connection.execute(
            user_api_tokens.update()
            .where(user_api_tokens.c.id == uuid.UUID(created.token.id))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    await expect_error(
        users_service.users.ResolveAPIToken(
            users_pb2.ResolveAPITokenRequest(token_hash=sha256_hex(created.plaintext_token)),
            metadata=metadata(),
        ),
        grpc.StatusCode.UNAUTHENTICATED,
        "expired",
    )
    listed = await users_service.users.ListAPITokens(users_pb2.ListAPITokensRequest(), metadata=me)
    assert len(listed.tokens) == 1 and not listed.tokens[0].HasField("last_used_at")


async def test_tokens_are_listed_newest_first_and_only_the_owners(users_service):
    owner = await provision(users_service)
    other = await provision(users_service)
    names = ["a", "b", "c"]
    for name in names:
        await users_service.users.CreateAPIToken(
            users_pb2.CreateAPITokenRequest(name=name), metadata=metadata(identity=owner.meta.id)
        )
    theirs = await users_service.users.CreateAPIToken(
        users_pb2.CreateAPITokenRequest(name="theirs"), metadata=metadata(identity=other.meta.id)
    )
    listed = await users_service.users.ListAPITokens(
        users_pb2.ListAPITokensRequest(), metadata=metadata(identity=owner.meta.id)
    )
    assert [token.name for token in listed.tokens] == ["c", "b", "a"]
    # Someone else's token reads as not found.
    await expect_error(
        users_service.users.RevokeAPIToken(
            users_pb2.RevokeAPITokenRequest(token_id=theirs.token.id),
            metadata=metadata(identity=owner.meta.id),
        ),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_token_validation_and_callers(users_service):
    user = await provision(users_service)
    me = metadata(identity=user.meta.id)
    failures = [
        (users_pb2.CreateAPITokenRequest(), INVALID, "name"),
        (users_pb2.CreateAPITokenRequest(name="x" * 257), INVALID, "name"),
        (
            users_pb2.CreateAPITokenRequest(name="n", expires_at=stamp(datetime.now(UTC) - timedelta(1))),
            INVALID,
            "in the future",
        ),
        (
            users_pb2.CreateAPITokenRequest(name="n", expires_at=Timestamp(seconds=1, nanos=-5)),
            INVALID,
            "expires_at",
        ),
    ]
    for request, code, fragment in failures:
        await expect_error(users_service.users.CreateAPIToken(request, metadata=me), code, fragment)
    await expect_error(
        users_service.users.CreateAPIToken(users_pb2.CreateAPITokenRequest(name="n"), metadata=metadata()),
        grpc.StatusCode.UNAUTHENTICATED,
    )
    # An identity without an account (an agent, say) may not hold tokens.
    await expect_error(
        users_service.users.CreateAPIToken(
            users_pb2.CreateAPITokenRequest(name="n"), metadata=metadata(identity=uuid.uuid4())
        ),
        grpc.StatusCode.PERMISSION_DENIED,
        "only users",
    )
    await expect_error(
        users_service.users.RevokeAPIToken(users_pb2.RevokeAPITokenRequest(token_id="1"), metadata=me),
        INVALID,
        "token_id",
    )
    await expect_error(
        users_service.users.ListAPITokens(users_pb2.ListAPITokensRequest(), metadata=metadata()),
        grpc.StatusCode.UNAUTHENTICATED,
    )
    await expect_error(
        users_service.users.ResolveAPIToken(users_pb2.ResolveAPITokenRequest(), metadata=metadata()),
        INVALID,
        "token_hash",
    )


async def test_create_token_with_idempotency_key_returns_the_same_secret(users_service):
    user = await provision(users_service)
    keyed = metadata(identity=user.meta.id, idempotency_key="tok-1")
    first = await users_service.users.CreateAPIToken(
        users_pb2.CreateAPITokenRequest(name="k"), metadata=keyed
    )
    again = await users_service.users.CreateAPIToken(
        users_pb2.CreateAPITokenRequest(name="k"), metadata=keyed
    )
    assert again.plaintext_token == first.plaintext_token
    listed = await users_service.users.ListAPITokens(
        users_pb2.ListAPITokensRequest(), metadata=metadata(identity=user.meta.id)
    )
    assert len(listed.tokens) == 1


async def test_device_lifecycle_and_paging(users_service):
    user = await provision(users_service)
    other = await provision(users_service)
    me = metadata(identity=user.meta.id)
    created = [
        await users_service.users.CreateDevice(
            users_pb2.CreateDeviceRequest(name=f"laptop-{index}"), metadata=me
        )
        for index in range(5)
    ]
    first = created[0]
    assert first.enrollment_jwt.startswith("agynd_") and len(first.enrollment_jwt) == 50
    assert first.device.status == users_pb2.DEVICE_STATUS_PENDING
    assert first.device.user_identity_id == user.meta.id
    assert first.device.openziti_identity_id
    await users_service.users.CreateDevice(
        users_pb2.CreateDeviceRequest(name="not mine"), metadata=metadata(identity=other.meta.id)
    )
    seen, token = [], ""
    while True:
        page = await users_service.users.ListDevices(
            users_pb2.ListDevicesRequest(page_size=2, page_token=token), metadata=me
        )
        seen.extend(device.meta.id for device in page.devices)
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == seen and set(seen) == {reply.device.meta.id for reply in created}
    await users_service.users.DeleteDevice(
        users_pb2.DeleteDeviceRequest(id=first.device.meta.id), metadata=me
    )
    await expect_error(
        users_service.users.DeleteDevice(users_pb2.DeleteDeviceRequest(id=first.device.meta.id), metadata=me),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_error(
        users_service.users.DeleteDevice(
            users_pb2.DeleteDeviceRequest(id=created[1].device.meta.id),
            metadata=metadata(identity=other.meta.id),
        ),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_device_validation_and_callers(users_service):
    user = await provision(users_service)
    me = metadata(identity=user.meta.id)
    await expect_error(
        users_service.users.CreateDevice(users_pb2.CreateDeviceRequest(), metadata=me), INVALID, "name"
    )
    await expect_error(
        users_service.users.CreateDevice(users_pb2.CreateDeviceRequest(name="d"), metadata=metadata()),
        grpc.StatusCode.UNAUTHENTICATED,
    )
    await expect_error(
        users_service.users.CreateDevice(
            users_pb2.CreateDeviceRequest(name="d"), metadata=metadata(identity=uuid.uuid4())
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    await expect_error(
        users_service.users.ListDevices(users_pb2.ListDevicesRequest(page_token="!!"), metadata=me),
        INVALID,
        "page_token",
    )
    await expect_error(
        users_service.users.DeleteDevice(users_pb2.DeleteDeviceRequest(id="x"), metadata=me), INVALID, "id"
    )
