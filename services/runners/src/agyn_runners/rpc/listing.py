"""Sorted, filtered pages of workloads and volumes (sheet §3.2 ListWorkloads, §3.3 ListVolumes).

A sort is a key expression and a direction; ties go by id ascending whichever way. The page
token holds the last row's key and id, bound to a scope naming the sort and the filter, so a
token used with another sort or filter is INVALID_ARGUMENT instead of a wrong page.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from agyn_common.db import Database
from agyn_common.errors import invalid_argument
from agyn_common.pagination import KeysetPage, decode_cursor
from agyn_common.validation import parse_uuid, parse_uuid_list
from agynio.api.runners.v1 import runners_pb2 as pb
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from google.protobuf.message import Message

from agyn_runners import store
from agyn_runners.names import UNKNOWN

MAX_NAMED = 1000  # distinct agents or volume definitions a sort by name resolves
MAX_IDS = 100  # ids one filter list may hold


@dataclass
class Filtered:
    """What ListWorkloads and ListVolumes filter alike, as SQL conditions on their table."""

    conditions: list[Any]
    organization_id: uuid.UUID | None  # required of identity callers; cross-organization without
    runner_ids: list[uuid.UUID]


def common_filters(table: sa.Table, request: Any, statuses: list[str], *, with_identity: bool) -> Filtered:
    """The organization, the runners (the filter's and the deprecated field), the statuses
    (parsed by the caller: each listing has its own) and the pending-sample predicate, the
    filter's winning over the deprecated field (sheet §3.2, §3.3)."""
    conditions: list[Any] = []
    organization_id = None
    if with_identity or request.HasField("organization_id"):
        organization_id = parse_uuid(request.organization_id.strip(), "organization_id")
        conditions.append(table.c.organization_id == organization_id)
    given = request.filter
    runner_ids = parse_uuid_list(given.runner_id_in, "filter.runner_id_in", max_items=MAX_IDS)
    if request.HasField("runner_id"):
        runner_ids.append(parse_uuid(request.runner_id.strip(), "runner_id"))
    if runner_ids:
        conditions.append(table.c.runner_id.in_(runner_ids))
    if statuses:
        conditions.append(table.c.status.in_(statuses))
    pending = (
        given.pending_sample
        if given.HasField("pending_sample")
        else (request.pending_sample if request.HasField("pending_sample") else None)
    )
    if pending is not None:
        predicate = store.pending_sample(table)
        conditions.append(predicate if pending else sa.not_(predicate))
    return Filtered(conditions, organization_id, runner_ids)


def checked_sort(sort: Any, fields: EnumTypeWrapper) -> int:
    """The sort's field, once it and its direction are values the contract defines."""
    if sort.field not in fields.values():
        raise invalid_argument("sort.field", f"unknown sort field {sort.field}")
    if sort.direction not in pb.SortDirection.values():
        raise invalid_argument("sort.direction", f"unknown sort direction {sort.direction}")
    field: int = sort.field
    return field


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


async def sort_by_name(
    db: Database,
    id_column: Any,
    conditions: list[Any],
    lookup: Callable[[Collection[uuid.UUID]], Awaitable[Mapping[uuid.UUID, str]]],
    page_token: str,
    kind: str,
) -> tuple[Any, Any] | None:
    """A sort by a name kept in Agents: the names of the (at most MAX_NAMED) distinct ids the
    filter matches, as a table to outer-join on `id_column`, and the sort key; None when
    nothing matches (after refusing a bad page token all the same)."""
    async with db.read() as connection:
        ids = (
            await connection.scalars(sa.select(id_column).where(*conditions).distinct().limit(MAX_NAMED))
        ).all()
    if not ids:
        decode_cursor(page_token, kind, 2)
        return None
    named = names_table(await lookup(ids))
    return named, sa.func.coalesce(named.c.sort_name, UNKNOWN).label("sort_key")


def keyset(
    page_token: str, page_size: int, kind: str, sort: Any, key: Any, *, descending: bool
) -> KeysetPage:
    return KeysetPage(
        page_token, page_size, scope=kind, sort=sort, key=key, descending=descending, key_descending=False
    )
