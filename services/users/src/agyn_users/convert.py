"""Rows to protobuf messages."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from agyn_common.timestamps import timestamp
from agynio.api.identity.v1 import identity_pb2
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


def cluster_role(admin: bool) -> users_pb2.ClusterRole:
    return users_pb2.CLUSTER_ROLE_ADMIN if admin else users_pb2.CLUSTER_ROLE_UNSPECIFIED


def directory_entry(row: Any) -> users_pb2.UserDirectoryEntry:
    return users_pb2.UserDirectoryEntry(
        identity_id=str(row.identity_id), username=row.username, name=row.name, photo_url=row.photo_url
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


def identity_type_entries(
    identity_ids: list[uuid.UUID], types: Mapping[uuid.UUID, identity_pb2.IdentityType]
) -> list[identity_pb2.IdentityTypeEntry]:
    """The registered ones of `identity_ids`, in the order asked."""
    return [
        identity_pb2.IdentityTypeEntry(identity_id=str(identity_id), identity_type=types[identity_id])
        for identity_id in identity_ids
        if identity_id in types
    ]


def nickname_entries(
    identity_ids: list[uuid.UUID], handles: Mapping[uuid.UUID, str]
) -> list[identity_pb2.NicknameEntry]:
    """The ones of `identity_ids` that have a handle, in the order asked."""
    return [
        identity_pb2.NicknameEntry(identity_id=str(identity_id), nickname=handles[identity_id])
        for identity_id in identity_ids
        if identity_id in handles
    ]


def resolved_nickname(row: Any) -> identity_pb2.ResolveNicknameResponse:
    reply = identity_pb2.ResolveNicknameResponse(
        identity_id=str(row.identity_id), identity_type=row.identity_type
    )
    if row.installation_id is not None:
        reply.installation_id = str(row.installation_id)
    return reply
