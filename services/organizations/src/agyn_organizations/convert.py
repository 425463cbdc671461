"""Rows of the organizations tables <-> OrganizationsService messages."""

from __future__ import annotations

from typing import Any

from agyn_common.errors import invalid_argument
from agyn_common.timestamps import timestamp
from agynio.api.organizations.v1 import organizations_pb2 as pb

ROLES: dict[int, str] = {pb.MEMBERSHIP_ROLE_OWNER: "owner", pb.MEMBERSHIP_ROLE_MEMBER: "member"}
ROLE_VALUES = {"owner": pb.MEMBERSHIP_ROLE_OWNER, "member": pb.MEMBERSHIP_ROLE_MEMBER}
STATUSES: dict[int, str] = {pb.MEMBERSHIP_STATUS_PENDING: "pending", pb.MEMBERSHIP_STATUS_ACTIVE: "active"}
STATUS_VALUES = {"pending": pb.MEMBERSHIP_STATUS_PENDING, "active": pb.MEMBERSHIP_STATUS_ACTIVE}


def organization_message(row: Any) -> pb.Organization:
    return pb.Organization(
        id=str(row.id),
        name=row.name,
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
    )


def membership_message(row: Any) -> pb.Membership:
    return pb.Membership(
        id=str(row.id),
        organization_id=str(row.organization_id),
        identity_id=str(row.identity_id),
        role=ROLE_VALUES[row.role],
        status=STATUS_VALUES[row.status],
        expires_at=timestamp(row.expires_at),
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
    )


def role_value(role: int) -> str:
    """The stored role of a request's `role`; UNSPECIFIED and unknown values are INVALID_ARGUMENT."""
    if role not in ROLES:
        raise invalid_argument("role", "must be MEMBERSHIP_ROLE_OWNER or MEMBERSHIP_ROLE_MEMBER")
    return ROLES[role]


def status_filter(status: int) -> str | None:
    """The stored status a listing keeps to; None (no filter) for UNSPECIFIED or unknown values."""
    return STATUSES.get(status)
