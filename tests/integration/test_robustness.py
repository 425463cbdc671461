"""Robustness: adversarial requests to every method of every served service (issue 15).

The platform is `make up`'s table of services, as processes, started once for the module.
Every method of every gRPC service a deployable of the table declares (its `DEFINITION`) gets
requests built from its request descriptor (`agyn_testkit.adversarial.RequestWalker`), as a caller its
method table admits and as callers with missing or malformed identity and workload metadata.
The Gateway gets the same over Connect JSON, with malformed bodies, wrong content types, a
huge body and odd Authorization headers. Nothing here names a method: a new service joins by
being in the table, a new method by being in its proto.

The oracle: no INTERNAL, UNKNOWN or DATA_LOSS status, no call past its deadline, no 5xx
from the Gateway, and every service SERVING afterwards. Requests are seeded: a failure
reproduces. What was sent and what came back, by status, is printed at the end of the run
(`pytest_terminal_summary` in conftest.py).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import pytest_asyncio
from agyn_common.embedded import EmbeddedNats
from agyn_common.server import ServiceDefinition
from agyn_gateway.routes import BACKENDS, Route, routes_of
from agyn_inprocess.gateway import frame
from agyn_local.platform import service_environment
from agyn_local.services import ADMIN_SERVICE, SERVICES, LocalService
from agyn_testkit.adversarial import FAILING, TALLIES, Case, RequestWalker, Tally, raw_grpc_status
from agyn_testkit.harness import wait_for_health
from agynio.api.organizations.v1 import organizations_pb2, organizations_pb2_grpc
from agynio.api.threads.v1 import threads_pb2, threads_pb2_grpc
from agynio.api.users.v1 import users_pb2, users_pb2_grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2

pytestmark = pytest.mark.local_platform

SEED = 15
REQUESTS_PER_METHOD = 200  # as the legitimate caller
VARIANT_REQUESTS = 3  # per other identity variant: the empty, the plausible and one adversarial
CONCURRENCY = 16
DEADLINE_SECONDS = 10.0
# A Subscribe that is still open after this long, or after this many messages, is cancelled:
# an open stream is a stream doing its job, not a hang.
STREAM_WINDOW_SECONDS = 1.0
STREAM_MESSAGES = 3
# Run last, so that what they delete is there for the other methods' plausible requests.
DESTRUCTIVE_PREFIXES = ("Delete", "Remove", "Revoke", "Archive", "Decline", "Degrade")

GATEWAY_CALLER = "gateway"


def served() -> list[tuple[LocalService, ServiceDefinition[Any]]]:
    """The gRPC deployables of `make up`'s table. The Gateway has no definition: it is the
    front door, and gets its own requests over Connect."""
    found = []
    for service in SERVICES:
        definition = getattr(importlib.import_module(f"{service.module}.__main__"), "DEFINITION", None)
        if definition is not None:
            found.append((service, definition))
    return found


# --- the platform, once for the module ------------------------------------------------------------


@dataclass
class Seeded:
    """A real world for the plausible requests: a cluster admin (the legitimate caller), a
    member, an organization, a membership, a thread with a message."""

    addresses: dict[str, str]
    admin: str
    admin_token: str
    member: str
    member_token: str
    real_ids: dict[str, str] = field(default_factory=dict)


def bootstrap_admin(addresses: dict[str, str], database_url: str, nats_url: str, token_file: Path) -> str:
    """The local admin, as `make up` creates it: the identity id; its token is in `token_file`."""
    (admin,) = (service for service in SERVICES if service.name == ADMIN_SERVICE)
    result = subprocess.run(
        [sys.executable, "-m", admin.module, "bootstrap-admin", "--token-file", str(token_file)],
        env=service_environment(nats_url, 0, addresses, database_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def acting(identity: str) -> tuple[tuple[str, str], ...]:
    return (("x-agyn-caller", GATEWAY_CALLER), ("x-identity-id", identity), ("x-identity-type", "user"))


async def seed(addresses: dict[str, str], admin: str, admin_token: str) -> Seeded:
    async with grpc.aio.insecure_channel(addresses["users"]) as channel:
        users = users_pb2_grpc.UsersServiceStub(channel)
        member = (
            await users.ResolveOrCreateUser(
                users_pb2.ResolveOrCreateUserRequest(
                    oidc_subject="robust-member", preferred_username="member"
                ),
                metadata=(("x-agyn-caller", GATEWAY_CALLER),),
            )
        ).user.meta.id
        token = await users.CreateAPIToken(
            users_pb2.CreateAPITokenRequest(name="robust"), metadata=acting(member)
        )
    async with grpc.aio.insecure_channel(addresses["organizations"]) as channel:
        organizations = organizations_pb2_grpc.OrganizationsServiceStub(channel)
        organization = (
            await organizations.CreateOrganization(
                organizations_pb2.CreateOrganizationRequest(name="Robust"), metadata=acting(admin)
            )
        ).organization.id
        membership = (
            await organizations.CreateMembership(
                organizations_pb2.CreateMembershipRequest(
                    organization_id=organization,
                    identity_id=member,
                    role=organizations_pb2.MEMBERSHIP_ROLE_MEMBER,
                ),
                metadata=acting(admin),
            )
        ).membership.id
    async with grpc.aio.insecure_channel(addresses["threads"]) as channel:
        threads = threads_pb2_grpc.ThreadsServiceStub(channel)
        thread = (
            await threads.CreateThread(
                threads_pb2.CreateThreadRequest(
                    organization_id=organization,
                    participants=[threads_pb2.ParticipantIdentifier(participant_id=member)],
                ),
                metadata=acting(admin),
            )
        ).thread.id
        message = (
            await threads.SendMessage(
                threads_pb2.SendMessageRequest(thread_id=thread, body="hello"), metadata=acting(admin)
            )
        ).message.id
    # By field name: what a plausible request puts there (a repeated `<name>s` takes `<name>`'s).
    real_ids = {
        "identity_id": member,
        "participant_id": member,
        "participant_id_in": member,
        "sender_id": member,
        "organization_id": organization,
        "membership_id": membership,
        "thread_id": thread,
        "message_id": message,
        "token_id": token.token.id,
        "page_token": "",
        "resume_after": "",
        "room": f"thread_participant:{admin}",  # the legitimate caller's: it may subscribe
    }
    return Seeded(addresses, admin, admin_token, member, token.plaintext_token, real_ids)


@pytest_asyncio.fixture(scope="module")
async def world(module_processes, nats_server: EmbeddedNats) -> Seeded:
    addresses = module_processes.addresses
    token_file = module_processes.logs / "admin-token"
    admin = bootstrap_admin(addresses, module_processes.databases[ADMIN_SERVICE], nats_server.url, token_file)
    return await seed(addresses, admin, token_file.read_text().strip())


# --- calling --------------------------------------------------------------------------------------


async def call_grpc(
    channel: grpc.aio.Channel, method: MethodDescriptor, request: object, metadata: Sequence[tuple[str, str]]
) -> str:
    """The status name the call ended with; OPEN for a stream still serving when let go."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    response_type = message_factory.GetMessageClass(method.output_type)
    serialize = type(request).SerializeToString
    try:
        if method.client_streaming:  # one message, as most clients' requests would be
            await channel.stream_unary(
                path, request_serializer=serialize, response_deserializer=response_type.FromString
            )(iter([request]), metadata=metadata, timeout=DEADLINE_SECONDS)
            return "OK"
        if not method.server_streaming:
            await channel.unary_unary(
                path, request_serializer=serialize, response_deserializer=response_type.FromString
            )(request, metadata=metadata, timeout=DEADLINE_SECONDS)
            return "OK"
        stream = channel.unary_stream(
            path, request_serializer=serialize, response_deserializer=response_type.FromString
        )(request, metadata=metadata, timeout=DEADLINE_SECONDS)
        received = 0
        try:
            async with asyncio.timeout(STREAM_WINDOW_SECONDS):
                async for _ in stream:
                    received += 1
                    if received >= STREAM_MESSAGES:
                        break
        except TimeoutError:
            stream.cancel()
            return "OPEN"
        if received >= STREAM_MESSAGES:
            stream.cancel()
            return "OPEN"
        return str((await stream.code()).name)
    except grpc.aio.AioRpcError as error:
        return str(error.code().name)


def identity_variants(
    caller: str, admin: str, member: str, stranger: str
) -> dict[str, tuple[tuple[str, str], ...]]:
    workload = (("x-agyn-caller", caller),)
    return {
        "legitimate": (*workload, ("x-identity-id", admin), ("x-identity-type", "user")),
        "member": (*workload, ("x-identity-id", member), ("x-identity-type", "user")),
        "no identity": workload,
        "unknown identity": (*workload, ("x-identity-id", stranger), ("x-identity-type", "agent")),
        "malformed identity": (*workload, ("x-identity-id", "not-a-uuid")),
        "two identities": (*workload, ("x-identity-id", admin), ("x-identity-id", member)),
        "unknown identity type": (*workload, ("x-identity-id", admin), ("x-identity-type", "martian")),
        "unknown caller": (("x-agyn-caller", "nobody"), ("x-identity-id", admin)),
        "no caller": (("x-identity-id", admin),),
        "two callers": (*workload, ("x-agyn-caller", "nobody"), ("x-identity-id", admin)),
    }


def admitted_caller(definition: ServiceDefinition[Any], path: str) -> str:
    """A workload the method table admits on `path` (the first, for determinism)."""
    grants = definition.access.grants_for(path)
    return min(min(grant.callers) for grant in grants) if grants else GATEWAY_CALLER


async def bounded(calls: list[Callable[[], Awaitable[None]]]) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def run(call: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await call()

    await asyncio.gather(*(run(call) for call in calls))


@pytest.mark.timeout(300)
async def test_every_method_of_every_served_service_survives_adversarial_requests(
    world: Seeded, request: pytest.FixtureRequest
) -> None:
    walker = RequestWalker(SEED, world.real_ids)
    tally = request.config.stash.setdefault(TALLIES, {})["gRPC"] = Tally()
    stranger = str(uuid.UUID(int=SEED, version=4))
    pool = descriptor_pool.Default()
    channels = {
        service.name: grpc.aio.insecure_channel(world.addresses[service.name]) for service, _ in served()
    }
    phases: tuple[list[Callable[[], Awaitable[None]]], ...] = ([], [])
    for service, definition in served():
        channel = channels[service.name]
        for service_name in definition.grpc_services:
            for method in pool.FindServiceByName(service_name).methods:
                path = f"/{service_name}/{method.name}"
                caller = admitted_caller(definition, path)
                variants = identity_variants(caller, world.admin, world.member, stranger)
                cases = walker.requests(method.input_type, REQUESTS_PER_METHOD)
                phase = phases[method.name.startswith(DESTRUCTIVE_PREFIXES)]
                for variant, metadata in variants.items():
                    for case in cases if variant == "legitimate" else cases[:VARIANT_REQUESTS]:
                        phase.append(one_call(tally, service.name, channel, method, case, variant, metadata))
                for case in cases[:VARIANT_REQUESTS]:
                    phase.append(
                        non_utf8_call(
                            tally,
                            service.name,
                            world.addresses[service.name],
                            path,
                            case,
                            caller,
                            method.server_streaming,
                        )
                    )
    try:
        for calls in phases:
            await bounded(calls)
        not_serving = [
            service.name for service in SERVICES if not await serving(world.addresses[service.name])
        ]
    finally:
        for channel in channels.values():
            await channel.close()
    problems = sorted(tally.failures) + [f"{name} is not SERVING after the run" for name in not_serving]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])


def one_call(
    tally: Tally,
    service: str,
    channel: grpc.aio.Channel,
    method: MethodDescriptor,
    case: Case,
    variant: str,
    metadata: Sequence[tuple[str, str]],
) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            async with asyncio.timeout(DEADLINE_SECONDS + 5):
                outcome = await call_grpc(channel, method, case.request, metadata)
        except TimeoutError:
            outcome = "HUNG"
        tally.record(
            service, outcome, outcome in FAILING, lambda: f"{method.name} as {variant}, {case.label}"
        )

    return run


def non_utf8_call(
    tally: Tally, service: str, address: str, path: str, case: Case, caller: str, streaming: bool
) -> Callable[[], Awaitable[None]]:
    """Identity metadata that is not UTF-8: grpcio refuses to send it, so this is HTTP/2 by hand."""

    async def run() -> None:
        headers = [(b"x-agyn-caller", caller.encode()), (b"x-identity-id", b"\xff\xfe-not-utf-8")]
        outcome = await raw_grpc_status(
            address,
            path,
            case.request.SerializeToString(),
            headers,
            DEADLINE_SECONDS,
            STREAM_WINDOW_SECONDS if streaming else None,
        )
        tally.record(
            service, outcome, outcome in FAILING, lambda: f"{path} with non-UTF-8 identity, {case.label}"
        )

    return run


async def serving(address: str) -> bool:
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            await wait_for_health(channel, health_pb2.HealthCheckResponse.SERVING, timeout=5)
        except TimeoutError:
            return False
    return True


# --- the Gateway over Connect --------------------------------------------------------------------

HUGE_BODY_BYTES = 10 * 1024 * 1024
OVERSIZED_HEADER_BYTES = 64 * 1024  # more than an HTTP server reads of a request's headers
CONNECT_SAMPLES = 20  # walker requests per method, as JSON
# Connect's end-of-stream error codes that are a server fault (their HTTP equivalent is 5xx).
CONNECT_FAULTS = frozenset({"internal", "unknown", "data_loss", "deadline_exceeded"})

MALFORMED_BODIES = (
    b"",
    b"{",
    b'{"a":',
    b"nul",
    b"\xff\xfe{}",
    b"{}\x00",
    b"[" * 100_000,  # nested deeper than any parser recurses
    b'{"a": "\\ud800"}',  # a lone surrogate
    b"[]",
    b'"text"',
    b"123",
    b"null",
    b"true",
    b'{"noSuchField": 1}',
)
WRONG_TYPES = ({}, [], 123, -1, "text", True, None, "\u0000", "10000-01-01T00:00:00Z")
CONTENT_TYPES = (
    None,
    "",
    "text/plain",
    "application/xml",
    "application/proto",
    "application/grpc",
    "application/grpc-web+json",
    "application/connect+json",
    "application/json; charset=utf-16",
    "multipart/form-data; boundary=x",
)
PROTOCOL_HEADERS = (
    {"connect-protocol-version": "2"},
    {"connect-timeout-ms": "-1"},
    {"connect-timeout-ms": "abc"},
    {"connect-timeout-ms": "9" * 30},
    {"content-encoding": "gzip"},
    {"content-encoding": "zzz"},
    {"connect-content-encoding": "gzip"},
    {"x-request-id": "\u00e9" * 300},
)


def odd_authorizations(token: str) -> list[list[tuple[str, bytes]]]:
    """Authorization headers as bytes: httpx sends them as they are."""
    return [
        [],
        [("authorization", b"")],
        # An empty bearer; "Bearer " with its trailing space h11 refuses to send.
        [("authorization", b"Bearer")],
        [("authorization", b"Basic dXNlcjpwYXNz")],
        [("authorization", b"Bearer agyn_garbage")],
        [("authorization", b"Bearer a.b.c")],
        [("authorization", b"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")],
        [("authorization", b"Bearer " + b"x" * 100_000)],
        [("authorization", "Bearer \u00fc\u00f1\u00ee".encode())],
        [("authorization", b"Bearer \xff\xfe")],
        [("authorization", b"bearer " + token.encode())],
        [("authorization", b"Bearer " + token.encode() + b" extra")],
        [("authorization", b"Bearer " + token.encode()), ("authorization", b"Bearer agyn_other")],
    ]


def json_bodies(walker: RequestWalker, input_type: type[Message]) -> list[tuple[str, bytes]]:
    """The walker's requests as Connect JSON (those JSON can hold), and each field of the wrong type."""
    descriptor = input_type.DESCRIPTOR
    bodies = [(f"body {body[:20]!r}", body) for body in MALFORMED_BODIES]
    for field_descriptor in descriptor.fields:
        for value in WRONG_TYPES:
            bodies.append(
                (
                    f"{field_descriptor.json_name}={value!r}",
                    json.dumps({field_descriptor.json_name: value}).encode(),
                )
            )
    for case in walker.requests(descriptor, CONNECT_SAMPLES):
        try:
            bodies.append((case.label, json_format.MessageToJson(case.request).encode()))
        except (ValueError, json_format.Error):
            continue  # out of range for JSON itself (timestamps): the wrong-type values cover those
    return bodies


async def connect_outcome(
    http: httpx.AsyncClient,
    path: str,
    streaming: bool,
    content: bytes,
    headers: list[tuple[str, bytes]],
    oversized: bool = False,
) -> tuple[str, bool]:
    """(outcome, failed) of one request. A server stream still open after the window (its headers
    may wait for its first message) is OPEN; an oversized request may be answered by closing the
    connection before the client has sent it all, which the client sees as no response."""
    try:
        async with asyncio.timeout(STREAM_WINDOW_SECONDS if streaming else DEADLINE_SECONDS + 5):
            async with http.stream("POST", path, content=content, headers=headers) as response:
                return judge(response.status_code, response.headers, await response.aread())
    except TimeoutError:
        return ("OPEN", False) if streaming else ("HUNG", True)
    except httpx.HTTPError as error:
        return f"no response ({type(error).__name__})", not oversized


def judge(status: int, headers: httpx.Headers, body: bytes) -> tuple[str, bool]:
    """The HTTP status, with the error code a body or the headers carry, and whether it is a fault.

    Connect prescribes `unimplemented` (HTTP 501) for a compression the server does not support:
    the protocol's answer to a client's request, not a fault of the server."""
    framed = headers.get("content-type", "").startswith(("application/connect+", "application/grpc-web"))
    code = end_of_stream(body) if framed and status == 200 else connect_error(body)
    grpc_status = headers.get("grpc-status")  # a trailers-only gRPC or gRPC-Web answer
    if code is None and grpc_status is not None:
        code = grpc_code(grpc_status)
    outcome = f"{status} {code}" if code else str(status)
    prescribed = status == 501 and code == "unimplemented"
    return outcome, (status >= 500 and not prescribed) or code in CONNECT_FAULTS


def connect_error(body: bytes) -> str | None:
    """The code of a Connect error: a unary error body, or the `error` of an end-of-stream message."""
    try:
        error = json.loads(body)
    except ValueError:
        return None
    if isinstance(error, dict) and isinstance(error.get("error"), dict):
        error = error["error"]
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def end_of_stream(body: bytes) -> str | None:
    """The code that ends a Connect stream or a gRPC-Web answer, if the body is framed."""
    while len(body) >= 5:
        flags, size = body[0], int.from_bytes(body[1:5], "big")
        frame, body = body[5 : 5 + size], body[5 + size :]
        if flags & 0x02:  # Connect's end-of-stream message
            return connect_error(frame) or "ok"
        if flags & 0x80:  # gRPC-Web's trailers
            trailers = dict(line.partition(":")[::2] for line in frame.decode().splitlines())
            return grpc_code(trailers.get("grpc-status", "").strip())
    return None


def grpc_code(number: str) -> str:
    """`13` → `internal`: gRPC's status numbers under Connect's names."""
    names = {str(code.value[0]): code.name.lower() for code in grpc.StatusCode}
    return names.get(number, f"grpc-status {number!r}")


# Thousands of requests over every route of every backend: a minute or more on two cores; the
# hang guard leaves it room when the machine is busy with the other tests.
@pytest.mark.timeout(300)
async def test_the_gateway_answers_no_5xx_to_odd_connect_requests(
    world: Seeded, request: pytest.FixtureRequest
) -> None:
    walker = RequestWalker(SEED, world.real_ids)
    tally = request.config.stash.setdefault(TALLIES, {})["Connect"] = Tally()
    bearer = [("authorization", f"Bearer {world.admin_token}".encode())]
    calls: list[Callable[[], Awaitable[None]]] = []
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=f"http://{world.addresses['gateway']}", timeout=DEADLINE_SECONDS, limits=limits
    ) as http:

        def add(
            route: Route,
            label: str,
            content: bytes,
            headers: list[tuple[str, bytes]],
            oversized: bool = False,
        ) -> None:
            # Both names of the method, at / and at /api/, in turn.
            path = ("/api" if len(calls) % 2 else "") + route.paths[len(calls) % len(route.paths)]

            async def run() -> None:
                outcome, failed = await connect_outcome(
                    http, path, route.server_streaming, content, headers, oversized
                )
                tally.record(route.backend, outcome, failed, lambda: f"{path} {label}")

            calls.append(run)

        for backend in BACKENDS:
            for route in routes_of(backend):
                # A server stream's request is one enveloped message, under a streaming content type.
                wrap = frame if route.server_streaming else (lambda body: body)
                json_type = "application/connect+json" if route.server_streaming else "application/json"
                typed = [("content-type", json_type.encode())]
                for label, body in json_bodies(walker, route.method.input):
                    add(route, label, wrap(body), [*bearer, *typed])
                for content_type in CONTENT_TYPES:
                    headers = [] if content_type is None else [("content-type", content_type.encode())]
                    add(route, f"content-type {content_type!r}", wrap(b"{}"), [*bearer, *headers])
                for authorization in odd_authorizations(world.member_token):
                    add(
                        route,
                        f"authorization {[value[:30] for _, value in authorization]}",
                        wrap(b"{}"),
                        [*authorization, *typed],
                        oversized=sum(len(value) for _, value in authorization) > OVERSIZED_HEADER_BYTES,
                    )
                for extra in PROTOCOL_HEADERS:
                    encoded = [(name, value.encode()) for name, value in extra.items()]
                    add(route, f"headers {extra}", wrap(b"{}"), [*bearer, *typed, *encoded])
                huge = b'{"x": "' + b"x" * HUGE_BODY_BYTES + b'"}'
                add(
                    route, f"a body of {HUGE_BODY_BYTES} bytes", wrap(huge), [*bearer, *typed], oversized=True
                )
        await bounded(calls)
    not_serving = [] if await serving(world.addresses["gateway"]) else ["gateway"]
    problems = sorted(tally.failures) + [f"{name} is not SERVING after the run" for name in not_serving]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])
