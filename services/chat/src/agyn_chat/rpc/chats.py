"""The chats: create, list, update, delete (chat sheet §3.2 to §3.4, §3.8).

A chat is a thread of Threads plus Chat's row; the list is Chat's rows of the organization,
newest first, of which the caller sees those whose thread lists it as a participant.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from agyn_common.caller import Caller, current_caller
from agyn_common.db import Database
from agyn_common.errors import database_unavailable, invalid_argument, not_found
from agyn_common.pagination import KeysetPage
from agyn_common.validation import check_length, parse_uuid
from agynio.api.chat.v1 import chat_pb2 as pb
from agynio.api.threads.v1 import threads_pb2

from agyn_chat import convert, store
from agyn_chat.activity import NOT_TRACKED, Activities
from agyn_chat.models import chats
from agyn_chat.threads import Threads

log = logging.getLogger(__name__)

MAX_LISTED = 1000  # participant ids a request may list, duplicates and the caller included
MAX_OTHERS = 99  # Threads' cap on the participants besides the initiator
MAX_SUMMARY = 1024
STORE_PAGE = 100  # rows of one store page: one participation check (Threads takes 100 ids)
MAX_STORE_PAGES = 10  # per GetChats; then a short page with a token (§8 #2)


def callers_chat(chat_id: str) -> tuple[Caller, uuid.UUID]:
    """The caller, who must have an identity, and the chat a request names."""
    caller = current_caller()
    caller.require_identity()
    return caller, parse_uuid(chat_id.strip(), "chat_id")


def _page(token: str, size: int, scope: str) -> KeysetPage:
    return KeysetPage(
        token, size, scope=scope, sort=chats.c.created_at, key=chats.c.thread_id, descending=True
    )


class ChatHandlers:
    def __init__(self, database: Database, threads: Threads, activities: Activities) -> None:
        self._db = database
        self._threads = threads
        self._activities = activities

    async def create(self, request: pb.CreateChatRequest, key: str | None) -> pb.CreateChatResponse:
        caller = current_caller()
        identity = caller.require_identity()
        organization_id = parse_uuid(request.organization_id.strip(), "organization_id")
        if len(request.participant_ids) > MAX_LISTED:
            raise invalid_argument("participant_ids", f"at most {MAX_LISTED} entries")
        others: dict[uuid.UUID, None] = {}  # the first occurrence of each, in order (§8 #3)
        for index, value in enumerate(request.participant_ids):
            participant = parse_uuid(value.strip(), f"participant_ids[{index}]")
            if participant != identity:
                others.setdefault(participant)
        if not others:
            raise invalid_argument("participant_ids", "must include another participant")
        if len(others) > MAX_OTHERS:
            raise invalid_argument("participant_ids", f"at most {MAX_OTHERS} other participants")
        thread = await self._threads.create(caller, organization_id, list(others), key)
        # A row that cannot be written fails the call, retryable, rather than answer a chat
        # that is never listed; a retry with the same key reaches the same thread (§8 #4).
        try:
            async with self._db.transaction() as connection:
                row = await store.insert(
                    connection,
                    uuid.UUID(thread.id),
                    organization_id,
                    identity,
                    thread.created_at.ToDatetime(tzinfo=UTC),
                )
        except sa.exc.DBAPIError as error:
            log.warning("thread %s made, its chat not kept: %s", thread.id, error)
            raise database_unavailable() from None
        return pb.CreateChatResponse(chat=convert.chat(thread, row))

    async def get_chats(self, request: pb.GetChatsRequest) -> pb.GetChatsResponse:
        caller = current_caller()
        identity = caller.require_identity()
        organization_id = parse_uuid(request.organization_id.strip(), "organization_id")
        status = convert.status(request.status)
        # The token holds the last row's (created_at, id), for this caller and filter only (§8 #10).
        scope = f"chats:{identity}:{organization_id}:{status}"
        page = _page(request.page_token, request.page_size, scope)
        listed = store.listed(organization_id, status)
        # The unread counts are asked meanwhile: they do not depend on the page.
        (kept, token), unread = await asyncio.gather(
            self._fill(caller, page, listed, scope), self._threads.unread_counts(caller)
        )
        activities = await self._activities.of(caller, [thread for _, thread in kept]) if kept else {}
        reply = pb.GetChatsResponse(next_page_token=token)
        for row, thread in kept:
            convert.fill_chat(
                reply.chats.add(),
                thread,
                row,
                unread=unread.get(thread.id, 0),
                activity=activities.get(thread.id, NOT_TRACKED),
            )
        return reply

    async def _fill(
        self, caller: Caller, page: KeysetPage, listed: sa.Select[Any], scope: str
    ) -> tuple[list[tuple[Any, threads_pb2.Thread]], str]:
        """The page's rows the caller takes part in, with their threads, and the next token:
        store pages read one after another, each checked in one call, until the page is full,
        the rows run out or MAX_STORE_PAGES were read (a short page then, §8 #2)."""
        wanted = page.size
        kept: list[tuple[Any, threads_pb2.Thread]] = []
        token = ""
        for _ in range(MAX_STORE_PAGES):
            async with self._db.read() as connection:
                rows = (await connection.execute(page.query(listed))).all()
            batch, more = rows[: page.size], len(rows) > page.size
            keys = [str(row.thread_id) for row in batch]
            found = {thread.id: thread for thread in await self._threads.participant_threads(caller, keys)}
            for index, row in enumerate(batch):
                thread = found.get(keys[index])
                if thread is None:
                    continue
                kept.append((row, thread))
                if len(kept) == wanted:
                    return kept, page.token_after(row) if more or index < len(batch) - 1 else ""
            if not more:
                return kept, ""
            token = page.token_after(batch[-1])
            page = _page(token, STORE_PAGE, scope)
        return kept, token

    async def update(self, request: pb.UpdateChatRequest) -> pb.UpdateChatResponse:
        caller, chat_id = callers_chat(request.chat_id)
        values: dict[str, Any] = {}
        if convert.status(request.status):
            values["status"] = request.status
        if request.HasField("summary"):
            summary = check_length(request.summary, "summary", max_chars=MAX_SUMMARY)
            values["summary"] = summary or None  # "" clears it
        row = await store.find(self._db, chat_id)
        if row is None or row.deleted_at is not None:
            raise not_found("chat not found")
        # Participants only: one who may read the thread without taking part may not (§3.4).
        thread = await self._threads.participant_thread(caller, chat_id)
        if thread is None:
            raise not_found("chat not found")
        if values:
            async with self._db.transaction() as connection:
                row = await store.update(connection, chat_id, values)
            if row is None:  # deleted meanwhile
                raise not_found("chat not found")
        return pb.UpdateChatResponse(chat=convert.chat(thread, row))

    async def delete(self, request: pb.DeleteChatRequest) -> pb.DeleteChatResponse:
        caller, chat_id = callers_chat(request.chat_id)
        row = await store.find(self._db, chat_id)
        if row is None:  # Chat archives only the threads of its chats
            raise not_found("chat not found")
        # Archived first, as the caller (Threads decides who may): a failure after it leaves a
        # listed but frozen chat that a retry deletes, never a hidden one agents still write in.
        await self._threads.archive(caller, chat_id)
        async with self._db.transaction() as connection:
            await store.mark_deleted(connection, chat_id)
        return pb.DeleteChatResponse()
