"""The threads and messages an agent's spans name (files-tracing B.3.2 steps 4 and 5), asked
of Threads as the exporting agent: it reads only the threads it takes part in."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import grpc
from agyn_common.cache import TtlCache
from agyn_common.caller import Caller
from agyn_common.errors import dependency_unavailable, invalid_argument, permission_denied
from agynio.api.threads.v1 import threads_pb2, threads_pb2_grpc

from agyn_tracing.ingest import AssertedThread

PAGE_SIZE = 100
# How far back a message is looked for, newest first: a turn's opening message is recent.
MAX_PAGES = 20
_REFUSED = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)


class ThreadChecks:
    def __init__(self, threads: grpc.aio.Channel, *, ttl: float, max_entries: int) -> None:
        self._threads = threads_pb2_grpc.ThreadsServiceStub(threads)
        # Only what was allowed or found is kept: a refusal is asked again next time.
        self._readable: TtlCache[tuple[uuid.UUID, str], bool] = TtlCache(ttl=ttl, max_entries=max_entries)
        self._messages: TtlCache[tuple[str, str], bool] = TtlCache(ttl=ttl, max_entries=max_entries)

    async def verify(self, identity_id: uuid.UUID, asserted: Iterable[AssertedThread]) -> None:
        """PERMISSION_DENIED unless the agent reads every thread; INVALID_ARGUMENT for a message
        that is not in its thread."""
        caller = tuple(Caller(identity_id, "agent").outgoing_metadata())
        for item in asserted:
            await self._thread(caller, identity_id, item.thread_id)
        for item in asserted:
            if item.message_id is not None:
                await self._message(caller, item)

    async def _thread(
        self, caller: tuple[tuple[str, str], ...], identity_id: uuid.UUID, thread_id: str
    ) -> None:
        if self._readable.get((identity_id, thread_id)):
            return
        generation = self._readable.generation
        try:
            await self._threads.GetThread(threads_pb2.GetThreadRequest(thread_id=thread_id), metadata=caller)
        except grpc.aio.AioRpcError as error:
            if error.code() in _REFUSED:
                raise permission_denied(f"the exporter may not read thread {thread_id}") from None
            raise dependency_unavailable("threads", error) from error
        self._readable.put((identity_id, thread_id), True, generation)

    async def _message(self, caller: tuple[tuple[str, str], ...], item: AssertedThread) -> None:
        assert item.message_id is not None
        key = (item.thread_id, item.message_id)
        if self._messages.get(key):
            return
        generation = self._messages.generation
        token = ""
        for _ in range(MAX_PAGES):
            request = threads_pb2.GetMessagesRequest(
                thread_id=item.thread_id,
                page_size=PAGE_SIZE,
                page_token=token,
                order=threads_pb2.MESSAGE_ORDER_NEWEST_FIRST,
            )
            try:
                page = await self._threads.GetMessages(request, metadata=caller)
            except grpc.aio.AioRpcError as error:
                if error.code() in _REFUSED:
                    raise permission_denied(f"the exporter may not read thread {item.thread_id}") from None
                raise dependency_unavailable("threads", error) from error
            if any(message.id == item.message_id for message in page.messages):
                self._messages.put(key, True, generation)
                return
            token = page.next_page_token
            if not token:
                break
        raise invalid_argument(
            item.field, f"message {item.message_id} does not belong to thread {item.thread_id}"
        )
