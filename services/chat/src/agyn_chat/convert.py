"""Rows and values <-> messages."""

from __future__ import annotations

from agynio.api.chat.v1 import chat_pb2 as pb


def status_message(service: str, schema_revision: str) -> pb.GetChatStatusResponse:
    return pb.GetChatStatusResponse(service=service, schema_revision=schema_revision)
