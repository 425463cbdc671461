"""Sorted, filtered pages of workloads and volumes (sheet §3.2 ListWorkloads, §3.3 ListVolumes).

A sort is a key expression and a direction; ties go by id ascending whichever way. The page
token holds the last row's key and id, bound to a scope naming the sort and the filter, so a
token used with another sort or filter is INVALID_ARGUMENT instead of a wrong page.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from agyn_common.pagination import KeysetPage
from agynio.api.runners.v1 import runners_pb2 as pb
from google.protobuf.message import Message

from agyn_runners.names import UNKNOWN

MAX_NAMED = 1000  # distinct agents or volume definitions a sort by name resolves


def direction(value: int, default_descending: bool) -> bool:
    """Descending? UNSPECIFIED is the listing's default (sheet §3.2, §3.3)."""
    if value == pb.SORT_DIRECTION_UNSPECIFIED:
        return default_descending
    return value == pb.SORT_DIRECTION_DESC


def scope(kind: str, *parts: Message | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(
            part.SerializeToString(deterministic=True) if isinstance(part, Message) else part.encode()
        )
        digest.update(b"\x1f")
    return f"{kind}:{digest.hexdigest()[:32]}"


def names_table(names: Mapping[uuid.UUID, str]) -> Any:
    """(id, sort_name) rows to join for a sort by a name kept elsewhere (Agents)."""
    return sa.values(sa.column("id", sa.Uuid), sa.column("sort_name", sa.Text), name="named").data(
        [(key, (value.strip() or UNKNOWN).lower()) for key, value in names.items()]
    )


def keyset(
    page_token: str, page_size: int, kind: str, sort: Any, key: Any, *, descending: bool
) -> KeysetPage:
    return KeysetPage(
        page_token, page_size, scope=kind, sort=sort, key=key, descending=descending, key_descending=False
    )
