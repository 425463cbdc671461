"""Rows and values <-> messages."""

from __future__ import annotations

from agynio.api.agents.v1 import agents_pb2 as pb


def status_message(service: str, schema_revision: str) -> pb.GetAgentsStatusResponse:
    return pb.GetAgentsStatusResponse(service=service, schema_revision=schema_revision)
