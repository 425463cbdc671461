"""Queries of the files database."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from agyn_common.db import Database
from agyn_common.errors import not_found
from agyn_common.query import Query

from agyn_files.models import files

_INSERT = Query(
    sa.insert(files)
    .values(
        id=sa.bindparam("id"),
        filename=sa.bindparam("filename"),
        content_type=sa.bindparam("content_type"),
        size_bytes=sa.bindparam("size_bytes"),
        uploader_identity_id=sa.bindparam("uploader_identity_id", type_=files.c.id.type),
        uploader_identity_type=sa.bindparam("uploader_identity_type", type_=sa.Text),
    )
    .returning(files),
    "File",
)
_GET = Query(sa.select(files).where(files.c.id == sa.bindparam("id")), "File")


async def insert_file(db: Database, **values: Any) -> Any:
    async with db.transaction() as connection:
        return await _INSERT.first(connection, **values)


async def get_file(db: Database, file_id: uuid.UUID) -> Any:
    """The file's row; NOT_FOUND for an unknown id."""
    async with db.read() as connection:
        row = await _GET.first(connection, id=file_id)
    if row is None:
        raise not_found("file not found")
    return row
