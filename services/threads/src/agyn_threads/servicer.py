"""ThreadsService (threads sheet §A3, §A4, §8; DESIGN §2, §5) and ThreadAccessService (DESIGN §2):
each RPC handed to its handler."""

from __future__ import annotations

import grpc
from agyn_common.agent_access import AgentAccess
from agyn_common.db import Database
from agyn_common.metrics import Metrics
from agyn_common.org_access import OrganizationAccess
from agyn_common.outbox import Outbox
from agynio.api.threads.v1 import access_pb2, access_pb2_grpc, threads_pb2_grpc
from agynio.api.threads.v1 import threads_pb2 as pb

from agyn_threads.attachments import Attachments
from agyn_threads.identities import Identities
from agyn_threads.rpc.listings import ThreadListings
from agyn_threads.rpc.messages import MessageHandlers
from agyn_threads.rpc.permissions import ThreadPermissions
from agyn_threads.rpc.thread_access import ThreadAccessHandlers
from agyn_threads.rpc.threads import ThreadHandlers


class ThreadsServicer(threads_pb2_grpc.ThreadsServiceServicer):
    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        organizations: OrganizationAccess,
        agents: AgentAccess,
        identities: Identities,
        attachments: Attachments,
        metrics: Metrics,
    ) -> None:
        permissions = ThreadPermissions(organizations)
        self._threads = ThreadHandlers(database, organizations, agents, identities, permissions)
        self._listings = ThreadListings(database, organizations, identities)
        self._messages = MessageHandlers(database, outbox, permissions, attachments, metrics)

    async def CreateThread(
        self, request: pb.CreateThreadRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateThreadResponse:
        return await self._threads.create(request, context)

    async def ArchiveThread(
        self, request: pb.ArchiveThreadRequest, context: grpc.aio.ServicerContext
    ) -> pb.ArchiveThreadResponse:
        return await self._threads.archive(request)

    async def DegradeThread(
        self, request: pb.DegradeThreadRequest, context: grpc.aio.ServicerContext
    ) -> pb.DegradeThreadResponse:
        return await self._threads.degrade(request)

    async def AddParticipant(
        self, request: pb.AddParticipantRequest, context: grpc.aio.ServicerContext
    ) -> pb.AddParticipantResponse:
        return await self._threads.add_participant(request, context)

    async def GetThread(
        self, request: pb.GetThreadRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetThreadResponse:
        return await self._threads.get(request)

    async def GetThreads(
        self, request: pb.GetThreadsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetThreadsResponse:
        return await self._listings.of_participant(request)

    async def ListOrganizationThreads(
        self, request: pb.ListOrganizationThreadsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListOrganizationThreadsResponse:
        return await self._listings.of_organization(request)

    async def GetOrganizationThreads(
        self, request: pb.GetOrganizationThreadsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetOrganizationThreadsResponse:
        return await self._listings.of_organization_legacy(request)

    async def SendMessage(
        self, request: pb.SendMessageRequest, context: grpc.aio.ServicerContext
    ) -> pb.SendMessageResponse:
        return await self._messages.send(request)

    async def GetMessages(
        self, request: pb.GetMessagesRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetMessagesResponse:
        return await self._messages.of_thread(request)

    async def GetUnackedMessages(
        self, request: pb.GetUnackedMessagesRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetUnackedMessagesResponse:
        return await self._messages.unacked(request)

    async def GetUnackedMessageCounts(
        self, request: pb.GetUnackedMessageCountsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetUnackedMessageCountsResponse:
        return await self._messages.unacked_counts(request)

    async def AckMessages(
        self, request: pb.AckMessagesRequest, context: grpc.aio.ServicerContext
    ) -> pb.AckMessagesResponse:
        return await self._messages.ack(request)


class ThreadAccessServicer(access_pb2_grpc.ThreadAccessServiceServicer):
    """Thread participation for other services (our addition; rpc/thread_access.py)."""

    def __init__(self, database: Database) -> None:
        self._access = ThreadAccessHandlers(database)

    async def GetParticipantThreads(
        self, request: access_pb2.GetParticipantThreadsRequest, context: grpc.aio.ServicerContext
    ) -> access_pb2.GetParticipantThreadsResponse:
        return await self._access.participant_threads(request)
