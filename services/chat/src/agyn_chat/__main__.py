"""The chat deployable: ChatService, the chat app's conversations over Threads."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
from agyn_common.server import Runtime, ServiceDefinition
from agyn_common.server import main as serve_main
from agynio.api.chat.v1 import chat_pb2_grpc

from agyn_chat.access import ACCESS, CHAT
from agyn_chat.activity import Activities
from agyn_chat.models import metadata
from agyn_chat.rpc.chats import ChatHandlers
from agyn_chat.rpc.messages import MessageHandlers
from agyn_chat.servicer import ChatServicer
from agyn_chat.settings import ChatSettings
from agyn_chat.threads import Threads


def register(server: grpc.aio.Server, runtime: Runtime[ChatSettings]) -> None:
    settings = runtime.settings
    threads = Threads(runtime.channels.channel(settings.threads_address))
    runners = None if settings.runners_address is None else runtime.channels.channel(settings.runners_address)
    activities = Activities(runtime.channels.channel(settings.users_address), runners)
    chat_pb2_grpc.add_ChatServiceServicer_to_server(
        ChatServicer(ChatHandlers(runtime.db, threads, activities), MessageHandlers(runtime.db, threads)),
        server,
    )


DEFINITION = ServiceDefinition(
    name="chat",
    settings_type=ChatSettings,
    access=ACCESS,
    grpc_services=(CHAT,),
    register=register,
    metadata=metadata,
    migrations=Path(__file__).parent / "migrations",
)


def main() -> None:
    sys.exit(serve_main(DEFINITION))


if __name__ == "__main__":
    main()
