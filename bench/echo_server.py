"""The baseline of a call's cost: a bare grpc.aio server answering UsersService.GetUser with the
requested id and nothing else (no interceptor, no database, no telemetry).

    python bench/echo_server.py PORT
"""

from __future__ import annotations

import asyncio
import sys

import grpc
from agynio.api.users.v1 import users_pb2, users_pb2_grpc


class Echo(users_pb2_grpc.UsersServiceServicer):
    async def GetUser(self, request, context):
        user = users_pb2.User(name="echo", email="echo@example.com")
        user.meta.id = request.identity_id
        return users_pb2.GetUserResponse(user=user)


async def serve(port: int) -> None:
    server = grpc.aio.server()
    users_pb2_grpc.add_UsersServiceServicer_to_server(Echo(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("serving", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
