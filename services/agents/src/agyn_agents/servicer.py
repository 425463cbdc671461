"""AgentsService: one thin method per RPC (DESIGN §6)."""

from __future__ import annotations

import grpc
from agyn_common.db import Database
from agynio.api.agents.v1 import agents_pb2 as pb
from agynio.api.agents.v1 import agents_pb2_grpc

from agyn_agents import store
from agyn_agents.convert import status_message


class AgentsServicer(agents_pb2_grpc.AgentsServiceServicer):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def GetAgentsStatus(
        self, request: pb.GetAgentsStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAgentsStatusResponse:
        return status_message("agents", await store.schema_revision(self._db))
