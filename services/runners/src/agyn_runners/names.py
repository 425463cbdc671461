"""Names of what workloads and volumes refer to, from Agents (sheet §3.2, §3.3; §8 #11, #12).

Platform calls (no identity): a caller who may see the record sees its names, even a cluster
admin outside the organization. A definition Agents no longer has is "unknown". One `Names`
serves one request, and asks Agents once per id.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc
from agyn_common.errors import dependency_unavailable
from agynio.api.agents.v1 import agents_pb2 as agents_pb
from agynio.api.agents.v1 import agents_pb2_grpc
from agynio.api.runners.v1 import runners_pb2 as pb

UNKNOWN = "unknown"
ATTACHMENT_PAGES = 20  # 2,000 attachments of one volume definition at most


class Names:
    def __init__(self, agents: agents_pb2_grpc.AgentsServiceStub) -> None:
        self._agents = agents
        self._cache: dict[tuple[str, str], Any] = {}

    async def _once(self, kind: str, key: str, fetch: Callable[[], Awaitable[Any]]) -> Any:
        if (kind, key) not in self._cache:
            self._cache[kind, key] = await fetch()
        return self._cache[kind, key]

    async def _ask(self, call: Awaitable[Any]) -> Any | None:
        """The reply, or None when Agents does not know the id."""
        try:
            return await call
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise dependency_unavailable("agents", error) from error

    async def agent(self, agent_id: uuid.UUID | str) -> str:
        async def fetch() -> str:
            reply = await self._ask(self._agents.GetAgent(agents_pb.GetAgentRequest(id=str(agent_id))))
            return reply.agent.name if reply is not None else UNKNOWN

        name: str = await self._once("agent", str(agent_id), fetch)
        return name

    async def agents(self, agent_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        ids = sorted(set(agent_ids))
        names = await asyncio.gather(*(self.agent(agent_id) for agent_id in ids))
        return dict(zip(ids, names, strict=True))

    async def volume(self, volume_id: uuid.UUID | str) -> str:
        async def fetch() -> str:
            reply = await self._ask(self._agents.GetVolume(agents_pb.GetVolumeRequest(id=str(volume_id))))
            if reply is None:
                return UNKNOWN
            return str(reply.volume.description or reply.volume.mount_path)

        name: str = await self._once("volume", str(volume_id), fetch)
        return name

    async def volumes(self, volume_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        ids = sorted(set(volume_ids))
        names = await asyncio.gather(*(self.volume(volume_id) for volume_id in ids))
        return dict(zip(ids, names, strict=True))

    async def attachments(self, volume_id: uuid.UUID | str) -> list[pb.Attachment]:
        async def fetch() -> list[pb.Attachment]:
            found: list[pb.Attachment] = []
            token = ""
            for _ in range(ATTACHMENT_PAGES):
                reply = await self._ask(
                    self._agents.ListVolumeAttachments(
                        agents_pb.ListVolumeAttachmentsRequest(
                            volume_id=str(volume_id), page_size=100, page_token=token
                        )
                    )
                )
                if reply is None:
                    break
                for attachment in reply.volume_attachments:
                    found.append(await self._attachment(attachment))
                token = reply.next_page_token
                if not token:
                    break
            return found

        attachments: list[pb.Attachment] = await self._once("attachments", str(volume_id), fetch)
        return attachments

    async def _attachment(self, attachment: agents_pb.VolumeAttachment) -> pb.Attachment:
        target = attachment.WhichOneof("target")
        if target == "agent_id":
            return pb.Attachment(
                kind=pb.ATTACHMENT_KIND_AGENT,
                id=attachment.agent_id,
                name=await self.agent(attachment.agent_id),
            )
        if target == "mcp_id":
            mcp = await self._ask(self._agents.GetMcp(agents_pb.GetMcpRequest(id=attachment.mcp_id)))
            return pb.Attachment(
                kind=pb.ATTACHMENT_KIND_MCP, id=attachment.mcp_id, name=mcp.mcp.name if mcp else UNKNOWN
            )
        hook = await self._ask(self._agents.GetHook(agents_pb.GetHookRequest(id=attachment.hook_id)))
        name = (hook.hook.description or hook.hook.event) if hook else UNKNOWN
        return pb.Attachment(kind=pb.ATTACHMENT_KIND_HOOK, id=attachment.hook_id, name=name)


class NameSource:
    """Makes a `Names` per request over one channel to Agents."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = agents_pb2_grpc.AgentsServiceStub(channel)

    def __call__(self) -> Names:
        return Names(self._stub)
