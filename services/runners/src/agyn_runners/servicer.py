"""RunnersService: one thin method per RPC (DESIGN §6)."""

from __future__ import annotations

import grpc
from agyn_common.db import Database
from agynio.api.runners.v1 import runners_pb2 as pb
from agynio.api.runners.v1 import runners_pb2_grpc

from agyn_runners import store
from agyn_runners.convert import status_message


class RunnersServicer(runners_pb2_grpc.RunnersServiceServicer):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def GetRunnersStatus(
        self, request: pb.GetRunnersStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetRunnersStatusResponse:
        return status_message("runners", await store.schema_revision(self._db))
