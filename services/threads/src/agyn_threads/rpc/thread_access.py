"""Thread participation for other services (DESIGN §2; chat sheet §8 #1).

Not part of the upstream contract: ThreadAccessService answers, in one call, which of a page
of threads the caller takes part in, where Chat's GetChats would otherwise scan GetThreads.
"""

from __future__ import annotations

from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.validation import parse_uuid_list
from agynio.api.threads.v1 import access_pb2 as pb

from agyn_threads import convert, store

MAX_THREAD_IDS = 100


class ThreadAccessHandlers:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def participant_threads(
        self, request: pb.GetParticipantThreadsRequest
    ) -> pb.GetParticipantThreadsResponse:
        """The caller's threads among the requested ones, whole, in the request's order; a
        repeated id answers once."""
        caller = current_caller().require_identity()
        wanted = parse_uuid_list(
            [value.strip() for value in request.thread_ids], "thread_ids", max_items=MAX_THREAD_IDS
        )
        if not wanted:
            return pb.GetParticipantThreadsResponse()
        position = {thread_id: index for index, thread_id in enumerate(dict.fromkeys(wanted))}
        # Autocommit: a round trip per statement and no BEGIN/COMMIT. The two may read
        # different moments, which is harmless: participants only ever join.
        async with self._db.read() as connection:
            rows = await store.participant_threads_among(connection, caller, list(position))
            rows = sorted(rows, key=lambda row: position[row.id])
            listed = convert.thread_messages(rows, await store.participants_of(connection, rows))
        return pb.GetParticipantThreadsResponse(threads=listed)
