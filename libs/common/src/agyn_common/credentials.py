"""Bearer credentials Users issues and the Gateway resolves: their prefixes, how one is made
and the hash that stands for it everywhere (gateway-auth-mesh §3.4, §8 #6).

A credential is its prefix + 44 base62 characters of 32 CSPRNG bytes; only its SHA-256 is
stored, and the Gateway asks Users about that hash, never the credential. Those who keep
resolved credentials (the Gateway, Tracing's exporters) drop them on Users' revocation events.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from agyn_common.bus import EVENTS_SUBJECT_PREFIX

V = TypeVar("V")

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BODY_LENGTH = 44
API_TOKEN_PREFIX = "agyn_"
DEVICE_CREDENTIAL_PREFIX = "agynd_"
# In place of OpenZiti identities (DESIGN §3): an agent workload's and a runner's.
AGENT_WORKLOAD_CREDENTIAL_PREFIX = "agynw_"
RUNNER_CREDENTIAL_PREFIX = "agynr_"
WORKLOAD_CREDENTIAL_PREFIXES = (AGENT_WORKLOAD_CREDENTIAL_PREFIX, RUNNER_CREDENTIAL_PREFIX)


def _base62(number: int) -> str:
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits)).rjust(BODY_LENGTH, "0")


def new_secret(prefix: str) -> str:
    """`prefix` + 44 base62 characters of 32 CSPRNG bytes (big-endian, zero-padded)."""
    return prefix + _base62(int.from_bytes(secrets.token_bytes(32), "big"))


def secret_hash(plaintext: str) -> str:
    """Lowercase hex SHA-256 of the whole plaintext, prefix included."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


# Users' event: the identity's workload credentials (one workload's, when it names one) are gone.
CREDENTIAL_REVOKED_EVENTS = f"{EVENTS_SUBJECT_PREFIX}.users.workload_credential.revoked"


def revoked(
    holder: Callable[[V], tuple[uuid.UUID, uuid.UUID | None]],
) -> Callable[[Mapping[str, Any]], Callable[[V], bool]]:
    """For `TtlCache.drop_on`: the cached resolutions an event naming `identity_id` (and maybe
    `workload_id`) revokes, `holder` saying whose (identity, workload) a resolution is."""

    def stale(data: Mapping[str, Any]) -> Callable[[V], bool]:
        identity_id = uuid.UUID(data["identity_id"])
        workload_id = uuid.UUID(data["workload_id"]) if data.get("workload_id") else None

        def covers(value: V) -> bool:
            held_identity, held_workload = holder(value)
            return held_identity == identity_id and workload_id in (None, held_workload)

        return covers

    return stale
