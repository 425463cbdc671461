"""Who is calling: the end-user identity the Gateway resolved, and the calling workload.

The identity comes from `x-identity-id` / `x-identity-type` metadata set by the Gateway (or
by a service acting for its caller). The workload (a Kubernetes ServiceAccount name) comes
from the access layer, see `agyn_common.access`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from agyn_common.errors import unauthenticated

IDENTITY_ID_KEY = "x-identity-id"
IDENTITY_TYPE_KEY = "x-identity-type"
# Set by the Gateway for agent workloads only; not forwarded by services acting for a caller.
WORKLOAD_ID_KEY = "x-workload-id"
IDENTITY_TYPES = frozenset({"user", "agent", "runner", "app", "platform"})

Metadata = Sequence[tuple[str, str | bytes]]


@dataclass(frozen=True)
class Caller:
    identity_id: uuid.UUID | None
    identity_type: str | None

    def require_identity(self) -> uuid.UUID:
        """The caller's identity; UNAUTHENTICATED when the call carries none."""
        if self.identity_id is None:
            raise unauthenticated()
        return self.identity_id

    @property
    def is_agent(self) -> bool:
        """An agent's own identity (the type compared case-insensitively, as the sheets say)."""
        return self.identity_id is not None and (self.identity_type or "").lower() == "agent"

    def outgoing_metadata(self) -> list[tuple[str, str]]:
        """Metadata to forward when calling another service on this caller's behalf."""
        if self.identity_id is None:
            return []
        pairs = [(IDENTITY_ID_KEY, str(self.identity_id))]
        if self.identity_type:
            pairs.append((IDENTITY_TYPE_KEY, self.identity_type))
        return pairs


ANONYMOUS = Caller(identity_id=None, identity_type=None)


def acting_as(identity_id: uuid.UUID) -> tuple[tuple[str, str], ...]:
    """Metadata of a call made on behalf of `identity_id`: the callee applies its rights."""
    return ((IDENTITY_ID_KEY, str(identity_id)),)


def metadata_values(metadata: Metadata | None, key: str) -> list[str]:
    values = []
    for item_key, value in metadata or ():
        if item_key == key:
            values.append(value.decode() if isinstance(value, bytes) else value)
    return values


def caller_from_metadata(metadata: Metadata | None) -> Caller:
    """Parse the identity metadata; malformed identity metadata is UNAUTHENTICATED.

    More than one value, a value that is not a UUID, or an unknown type are all rejected
    rather than guessed at (gateway-auth-mesh §3.13).
    """
    ids = metadata_values(metadata, IDENTITY_ID_KEY)
    types = metadata_values(metadata, IDENTITY_TYPE_KEY)
    if len(ids) > 1 or len(types) > 1:
        raise unauthenticated("expected a single identity")
    if not ids or not ids[0].strip():
        return ANONYMOUS
    try:
        identity_id = uuid.UUID(ids[0].strip())
    except ValueError:
        raise unauthenticated("identity is not a UUID") from None
    identity_type = types[0].strip() if types else None
    if identity_type is not None and identity_type not in IDENTITY_TYPES:
        raise unauthenticated("unknown identity type")
    return Caller(identity_id=identity_id, identity_type=identity_type)


# The metadata of the RPC being served, set by the pipeline: each RPC runs in its own task.
_served_metadata: ContextVar[Metadata] = ContextVar("served_metadata", default=())


def serve_as(metadata: Metadata) -> None:
    """Make `metadata` the current RPC's, for `current_caller` (the pipeline calls this)."""
    _served_metadata.set(metadata)


def current_caller() -> Caller:
    """The identity of the RPC being served; UNAUTHENTICATED when its identity metadata is
    malformed. Handlers call this instead of reading metadata themselves."""
    return caller_from_metadata(_served_metadata.get())
