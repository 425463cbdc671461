"""Rows and values <-> messages."""

from __future__ import annotations

from agynio.api.runners.v1 import runners_pb2 as pb


def status_message(service: str, schema_revision: str) -> pb.GetRunnersStatusResponse:
    return pb.GetRunnersStatusResponse(service=service, schema_revision=schema_revision)
