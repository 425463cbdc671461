"""Rows to protobuf messages."""

from __future__ import annotations

from typing import Any

from agyn_common.timestamps import timestamp
from agynio.api.users.v1 import users_pb2


def user_message(row: Any) -> users_pb2.User:
    return users_pb2.User(
        meta=users_pb2.EntityMeta(
            id=str(row.identity_id),
            created_at=timestamp(row.created_at),
            updated_at=timestamp(row.updated_at),
        ),
        oidc_subject=row.oidc_subject,
        name=row.name,
        email=row.email,
        photo_url=row.photo_url,
        nickname=row.nickname,
        username=row.username or "",
    )


def token_message(row: Any) -> users_pb2.APIToken:
    return users_pb2.APIToken(
        id=str(row.id),
        identity_id=str(row.identity_id),
        name=row.name,
        token_prefix=row.token_prefix,
        expires_at=timestamp(row.expires_at),
        created_at=timestamp(row.created_at),
        last_used_at=timestamp(row.last_used_at),
    )


DEVICE_STATUS = {
    "pending": users_pb2.DEVICE_STATUS_PENDING,
    "enrolled": users_pb2.DEVICE_STATUS_ENROLLED,
}


def device_message(row: Any) -> users_pb2.Device:
    return users_pb2.Device(
        # The store keeps no separate update time: devices are never modified.
        meta=users_pb2.EntityMeta(
            id=str(row.id), created_at=timestamp(row.created_at), updated_at=timestamp(row.created_at)
        ),
        user_identity_id=str(row.identity_id),
        name=row.name,
        openziti_identity_id=row.openziti_identity_id,
        status=DEVICE_STATUS.get(row.status, users_pb2.DEVICE_STATUS_UNSPECIFIED),
    )
