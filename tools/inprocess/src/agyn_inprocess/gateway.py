"""The Gateway in-process in front of Users, Organizations, Threads, Notifications, Agents,
Files, Runners and Chat, a test OIDC issuer, and the wire formats of the three protocols written
out by hand (so that the tests check the bytes clients send and receive, not a library's idea of
them)."""

from __future__ import annotations

import base64
import json
import struct
import threading
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import httpx
import jwt
from agyn_gateway.server import RunningGateway, start_gateway
from agyn_gateway.settings import GatewaySettings
from agyn_testkit.calls import metadata
from agyn_testkit.harness import in_process_settings
from agynio.api.users.v1 import users_pb2
from cryptography.hazmat.primitives.asymmetric import rsa
from google.protobuf.message import Message

from agyn_inprocess.agents import Agents
from agyn_inprocess.chat import Chat
from agyn_inprocess.files import Files
from agyn_inprocess.notifications import Notifications
from agyn_inprocess.organizations import Platform
from agyn_inprocess.runners import Runners
from agyn_inprocess.threads import Threads

USERS_GATEWAY = "agynio.api.gateway.v1.UsersGateway"
DOCUMENTED_USERS_GATEWAY = "agynio.api.users.v1.UsersGateway"


@dataclass
class Gateway:
    running: RunningGateway
    platform: Platform
    url: str
    http: httpx.AsyncClient

    @property
    def address(self) -> str:
        return self.running.address

    async def token_for(self, identity: uuid.UUID, **request: Any) -> str:
        """A fresh API token of `identity`, created directly in Users."""
        reply: users_pb2.CreateAPITokenResponse = await self.platform.users.users.CreateAPIToken(
            users_pb2.CreateAPITokenRequest(name=f"t-{uuid.uuid4().hex[:8]}", **request),
            metadata=metadata(identity),
        )
        return reply.plaintext_token

    async def connect(
        self,
        method: str,
        body: dict[str, Any],
        token: str | None = None,
        *,
        service: str = USERS_GATEWAY,
        **headers: str,
    ) -> httpx.Response:
        """A Connect unary call with a JSON body."""
        sent = {"content-type": "application/json", **headers}
        if token is not None:
            sent["authorization"] = f"Bearer {token}"
        return await self.http.post(f"{self.url}/{service}/{method}", json=body, headers=sent)


@asynccontextmanager
async def in_process_gateway(
    platform: Platform,
    nats_url: str,
    *,
    threads: Threads | None = None,
    agents: Agents | None = None,
    notifications: Notifications | None = None,
    files: Files | None = None,
    runners: Runners | None = None,
    chat: Chat | None = None,
    anonymous_methods: frozenset[str] = frozenset(),
    **overrides: Any,
) -> AsyncIterator[Gateway]:
    addresses = {
        "users_address": platform.users.running.address,
        "organizations_address": platform.organizations_service.address,
        "threads_address": threads.service.address if threads else None,
        "notifications_address": notifications.service.address if notifications else None,
        "agents_address": agents.service.address if agents else None,
        "files_address": files.address if files else None,
        "runners_address": runners.address if runners else None,
        "chat_address": chat.address if chat else None,
    }
    # An override may put another server behind a route (`agents_address=...`).
    settings = in_process_settings(GatewaySettings, "", nats_url, **{**addresses, **overrides})
    running = await start_gateway(settings, anonymous_methods=anonymous_methods, jwks_refetch_interval=0)
    await running.bus.wait_ready(15)
    url = f"http://{running.address}"
    async with httpx.AsyncClient(timeout=10) as http:
        try:
            yield Gateway(running, platform, url, http)
        finally:
            await running.stop()


# --- framing -----------------------------------------------------------------------------------


def frame(payload: bytes, flags: int = 0) -> bytes:
    """One length-prefixed message, as gRPC-Web and Connect streaming send them."""
    return struct.pack(">BI", flags, len(payload)) + payload


def frames(body: bytes) -> list[tuple[int, bytes]]:
    """(flags, payload) of each length-prefixed message in `body`."""
    out, offset = [], 0
    while offset < len(body):
        flags, length = struct.unpack(">BI", body[offset : offset + 5])
        out.append((flags, body[offset + 5 : offset + 5 + length]))
        offset += 5 + length
    return out


def grpc_web_trailers(payload: bytes) -> dict[str, str]:
    lines = [line for line in payload.decode().split("\r\n") if line]
    return {key.strip().lower(): value.strip() for key, _, value in (line.partition(":") for line in lines)}


def grpc_web_request(message: Message) -> bytes:
    return frame(message.SerializeToString())


def grpc_web_text_request(message: Message) -> bytes:
    return base64.b64encode(grpc_web_request(message))


def grpc_web_text_decode(text: bytes) -> bytes:
    """A gRPC-Web text body: base64 pieces, each padded on its own, one after another (as
    grpc-web clients read it: in quanta of 4). `base64.b64decode` would stop at the first
    padding."""
    whole = text[: len(text) - len(text) % 4]
    return b"".join(base64.b64decode(whole[i : i + 4]) for i in range(0, len(whole), 4))


# --- a test OIDC issuer ----------------------------------------------------------------------


@dataclass
class OidcIssuer:
    """An identity provider on loopback: discovery, a JWKS with rotating keys, userinfo."""

    server: ThreadingHTTPServer
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)  # userinfo by subject
    jwks_fetches: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def rotate(self) -> str:
        """A new signing key (the old ones stay published); returns its key id."""
        key_id = uuid.uuid4().hex[:12]
        self.keys[key_id] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return key_id

    def withdraw(self, key_id: str) -> None:
        """Stop publishing a key (as after a compromise): tokens it signed must stop verifying."""
        del self.keys[key_id]

    def sign(
        self,
        subject: str,
        *,
        key_id: str | None = None,
        lifetime: float = 300,
        issuer: str | None = None,
        **claims: Any,
    ) -> str:
        key_id = key_id or next(reversed(self.keys))
        now = int(time.time())
        body = {"iss": issuer or self.url, "sub": subject, "iat": now, "exp": now + int(lifetime), **claims}
        return jwt.encode(body, self.keys[key_id], algorithm="RS256", headers={"kid": key_id})

    def jwks(self) -> dict[str, Any]:
        published = []
        for key_id, key in self.keys.items():
            entry = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            published.append({**entry, "kid": key_id, "use": "sig", "alg": "RS256"})
        return {"keys": published}


def start_issuer() -> OidcIssuer:
    issuer: OidcIssuer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: Any) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            if self.path == "/.well-known/openid-configuration":
                self._reply(
                    200,
                    {
                        "issuer": issuer.url,
                        "jwks_uri": f"{issuer.url}/jwks",
                        "userinfo_endpoint": f"{issuer.url}/userinfo",
                    },
                )
            elif self.path == "/jwks":
                issuer.jwks_fetches += 1
                self._reply(200, issuer.jwks())
            elif self.path == "/userinfo":
                token = self.headers.get("authorization", "").removeprefix("Bearer ")
                subject = jwt.decode(token, options={"verify_signature": False})["sub"]
                self._reply(200, {"sub": subject, **issuer.profiles.get(subject, {})})
            else:
                self._reply(404, {})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    issuer = OidcIssuer(server)
    issuer.rotate()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return issuer


Recorded = list[tuple[str, dict[str, str]]]  # (method, the call's x-* metadata), in call order


@asynccontextmanager
async def recording_backend(service: str, methods: Sequence[str]) -> AsyncIterator[tuple[str, Recorded]]:
    """A gRPC server standing where `service` would, answering `methods` with empty messages
    and keeping the x-* metadata of each call: what a service receives from the Gateway."""
    seen: Recorded = []

    def answer(method: str) -> grpc.RpcMethodHandler:
        async def handle(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            pairs = context.invocation_metadata() or ()
            seen.append((method, {key: str(value) for key, value in pairs if key.startswith("x-")}))
            return b""

        return grpc.unary_unary_rpc_method_handler(handle)

    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler(service, {name: answer(name) for name in methods})]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}", seen
    finally:
        await server.stop(None)
