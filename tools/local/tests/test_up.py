"""`python -m agyn_local up` as a user runs it: a real process tree, called over gRPC."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import grpc
import httpx
import psycopg
from agyn_common.embedded import free_port
from agyn_inprocess.gateway import frame, frames
from agyn_local.platform import database_url
from agyn_local.services import SERVICES
from agynio.api.gateway.v1 import runners_pb2_grpc as runners_gateway
from agynio.api.organizations.v1 import organizations_pb2, organizations_pb2_grpc
from agynio.api.runner.v1 import runner_pb2
from agynio.api.tracing.v1 import tracing_pb2
from agynio.api.users.v1 import users_pb2, users_pb2_grpc

START_TIMEOUT_SECONDS = 90
# The services batch their spans for 5 s (OTEL_BSP_SCHEDULE_DELAY) before sending them.
SPANS_TIMEOUT_SECONDS = 30
# The `service.name` of each stored span's resource.
SERVICE_NAMES = """
    SELECT DISTINCT attribute->'value'->>'stringValue' FROM spans,
        jsonb_array_elements(resource->'attributes') AS attribute
    WHERE attribute->>'key' = 'service.name'
"""
# The README's script exporting a run to Tracing with the OpenTelemetry SDK.
EXPORT_SPANS = Path(__file__).resolve().parents[3] / "examples" / "export_spans.py"
StubT = TypeVar("StubT")


class Up:
    def __init__(self, state_dir: Path, nats_port: int) -> None:
        self.state_dir = state_dir
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agyn_local", "up", "--dir", str(state_dir),
             "--nats-port", str(nats_port), "--base-port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip

    @property
    def endpoints_path(self) -> Path:
        return self.state_dir / "endpoints.json"

    def wait_until_up(self) -> dict[str, str]:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self.endpoints_path.exists():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"up exited with {self.process.returncode}: {self.process.stderr.read()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError("the platform did not come up")
            time.sleep(0.2)
        return json.loads(self.endpoints_path.read_text())

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        stdout, stderr = self.process.communicate(timeout=timeout)
        return self.process.returncode, stdout, stderr

    def end(self) -> None:
        """Stop `up` if it still runs: SIGTERM first, so that it stops its services (they run
        in sessions of their own: a SIGKILL of `up` alone left them running after a failed
        test, using the machine for the rest of the suite), SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()


@contextmanager
def running_up(state_dir: Path, nats_port: int) -> Iterator[Up]:
    up = Up(state_dir, nats_port)
    try:
        yield up
    finally:
        up.end()


@contextmanager
def client(stub_type: type[StubT], address: str, identity_id: str | None = None) -> Iterator[StubT]:
    """A stub calling as the Gateway would in local mode, for `identity_id` when given."""
    metadata = [("x-agyn-caller", "gateway")]
    if identity_id:
        metadata.append(("x-identity-id", identity_id))

    class WithMetadata(grpc.UnaryUnaryClientInterceptor):
        def intercept_unary_unary(self, continuation, details, request):
            details = details._replace(metadata=metadata, timeout=10)
            return continuation(details, request)

    with grpc.insecure_channel(address) as channel:
        yield stub_type(grpc.intercept_channel(channel, WithMetadata()))


def service_pids(module: str, address: str) -> list[int]:
    """Pids of `python -m <module>` processes serving on `address` (Linux /proc)."""
    port = address.rsplit(":", 1)[1]
    found = []
    for process_dir in Path("/proc").glob("[0-9]*"):
        try:
            arguments = (process_dir / "cmdline").read_bytes().split(b"\0")
            environment = (process_dir / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if module.encode() in arguments and f"GRPC_PORT={port}".encode() in environment:
            found.append(int(process_dir.name))
    return found


def test_up_serves_users_keeps_its_data_and_stops_cleanly(tmp_path):
    state_dir = tmp_path / "local"
    nats_port = free_port()

    with running_up(state_dir, nats_port) as up:
        endpoints = up.wait_until_up()
        assert set(endpoints) == {service.name for service in SERVICES} | {
            "nats",
            "postgres",
            "s3",
            "metrics",
            "otlp-http",
        }
        assert set(endpoints["metrics"]) == {service.name for service in SERVICES}
        assert endpoints["nats"] == f"nats://127.0.0.1:{nats_port}"
        token = (state_dir / "admin-token").read_text().strip()
        admin_id = (state_dir / "admin-identity-id").read_text().strip()
        assert token.startswith("agyn_")
        assert (state_dir / "admin-token").stat().st_mode & 0o077 == 0

        with client(users_pb2_grpc.UsersServiceStub, endpoints["users"], admin_id) as users:
            me = users.GetMe(users_pb2.GetMeRequest())
            assert me.user.meta.id == admin_id
            assert me.cluster_role == users_pb2.CLUSTER_ROLE_ADMIN
            for subject in ("local|ada", "local|grace"):
                users.CreateUser(users_pb2.CreateUserRequest(oidc_subject=subject))
            page = users.ListUsers(users_pb2.ListUsersRequest(page_size=2))
            assert len(page.users) == 2 and page.next_page_token
        with client(users_pb2_grpc.UsersServiceStub, endpoints["users"]) as gateway:
            resolved = gateway.ResolveAPIToken(
                users_pb2.ResolveAPITokenRequest(token_hash=hashlib.sha256(token.encode()).hexdigest())
            )
            assert resolved.identity_id == admin_id
        # The front door: the admin token through the Gateway, as the README's curl does it.
        request = urllib.request.Request(
            f"http://{endpoints['gateway']}/api/agynio.api.users.v1.UsersGateway/GetMe",
            data=b"{}",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert json.loads(reply.read())["user"]["meta"]["id"] == admin_id
        # The README's file: uploaded as a browser does, then fetched by its signed link alone.
        bearer = {"Authorization": f"Bearer {token}"}
        stored = httpx.post(
            f"http://{endpoints['gateway']}/files",
            headers=bearer,
            files={"file": ("notes.txt", b"hello from a file\n", "text/plain")},
            timeout=30,
        )
        assert stored.status_code == 201, stored.text
        link = httpx.post(
            f"http://{endpoints['gateway']}/api/agynio.api.files.v1.FilesGateway/GetDownloadUrl",
            headers=bearer,
            json={"fileId": stored.json()["id"], "expiry": "300s"},
            timeout=30,
        )
        assert link.status_code == 200, link.text
        assert link.json()["url"].startswith(endpoints["s3"])
        fetched = httpx.get(link.json()["url"], timeout=30)
        assert (fetched.content, fetched.headers["content-type"]) == (b"hello from a file\n", "text/plain")
        # Users counted that GetMe, as the README's curl of its metrics shows.
        with urllib.request.urlopen(endpoints["metrics"]["users"], timeout=10) as reply:
            metrics = reply.read().decode()
        assert 'rpc_method="GetMe"' in metrics and 'rpc_grpc_status_code="0"' in metrics
        # A second account gets its own token with one command, as the README's Ada does.
        issued = subprocess.run(
            [sys.executable, "-m", "agyn_local", "issue-token", "--dir", str(state_dir),
             "--username", "ada", "--name", "Ada"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        ada = json.loads(issued.stdout)
        request = urllib.request.Request(
            f"http://{endpoints['gateway']}/api/agynio.api.users.v1.UsersGateway/GetMe",
            data=b"{}",
            headers={"Authorization": f"Bearer {ada['token']}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            ada_me = json.loads(reply.read())
        assert (ada_me["user"]["meta"]["id"], ada_me["user"]["name"]) == (ada["identity_id"], "Ada")
        # Organizations works with Users behind it: the admin owns a new organization.
        with client(
            organizations_pb2_grpc.OrganizationsServiceStub, endpoints["organizations"], admin_id
        ) as orgs:
            created = orgs.CreateOrganization(organizations_pb2.CreateOrganizationRequest(name="Local"))
            members = orgs.ListMembers(
                organizations_pb2.ListMembersRequest(organization_id=created.organization.id)
            )
            assert [(m.identity_id, m.role) for m in members.memberships] == [
                (admin_id, organizations_pb2.MEMBERSHIP_ROLE_OWNER)
            ]
        # The README's chat: made with Ada through the Gateway, listed for both.
        chat_gateway = f"http://{endpoints['gateway']}/api/agynio.api.gateway.v1.ChatGateway"
        made = httpx.post(
            f"{chat_gateway}/CreateChat",
            headers=bearer,
            json={"organizationId": created.organization.id, "participantIds": [ada["identity_id"]]},
            timeout=30,
        )
        assert made.status_code == 200, made.text
        for credential in (token, ada["token"]):
            listed = httpx.post(
                f"{chat_gateway}/GetChats",
                headers={"Authorization": f"Bearer {credential}"},
                json={"organizationId": created.organization.id},
                timeout=30,
            )
            assert [c["id"] for c in listed.json()["chats"]] == [made.json()["chat"]["id"]], listed.text

        # The README's workload on the local runner, its logs followed through the Gateway while
        # it prints: over gRPC as it runs, then over Connect and gRPC-Web once it has ended.
        started = subprocess.run(
            [sys.executable, "-m", "agyn_local", "run-workload", "--dir", str(state_dir),
             "--organization-id", created.organization.id, "--",
             "/bin/sh", "-c", "for i in 1 2 3 4 5; do echo step $i; sleep 0.3; done"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        workload = json.loads(started.stdout)
        request = runner_pb2.StreamWorkloadLogsRequest(
            workload_id=workload["workload_id"], container_name="main", follow=True
        )
        with grpc.insecure_channel(endpoints["gateway"]) as channel:
            stream = runners_gateway.RunnersGatewayStub(channel).StreamWorkloadLogs(
                request, metadata=[("authorization", f"Bearer {token}")], timeout=60
            )
            followed = b"".join(reply.chunk.data for reply in stream)  # ends OK when the process does
        assert followed == b"".join(f"step {i}\n".encode() for i in range(1, 6))
        logs_path = "agynio.api.gateway.v1.RunnersGateway/StreamWorkloadLogs"
        request.follow = False
        for content_type in ("application/connect+proto", "application/grpc-web+proto"):
            reply = httpx.post(
                f"http://{endpoints['gateway']}/api/{logs_path}",
                content=frame(request.SerializeToString()),
                headers={**bearer, "content-type": content_type},
                timeout=30,
            )
            *messages, (end_flags, end) = frames(reply.content)
            chunks = [runner_pb2.StreamWorkloadLogsResponse.FromString(m).chunk.data for _, m in messages]
            assert b"".join(chunks) == followed, content_type
            # The end: Connect's end-of-stream message without an error, gRPC-Web's trailers with OK.
            assert end_flags in (0x02, 0x80), content_type
            assert (
                (b"error" not in end) if end_flags == 0x02 else (b"grpc-status:0" in end.replace(b" ", b""))
            )

        # The services sent their own spans to Tracing, as platform producers: stored without
        # an organization (so no query shows them). Tracing's own too, but never its handling
        # of an export (which would beget exports for ever).
        tracing_database = database_url(endpoints["postgres"], "tracing")
        deadline = time.monotonic() + SPANS_TIMEOUT_SECONDS
        while True:
            with psycopg.connect(tracing_database) as connection:
                services = {name for (name,) in connection.execute(SERVICE_NAMES)}
                exports = connection.execute(
                    "SELECT count(*) FROM spans WHERE name LIKE '%TraceService/Export' OR name LIKE 'POST %'"
                ).fetchone()
            if {"gateway", "users", "runners", "tracing"} <= services or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert {"gateway", "users", "runners", "tracing"} <= services
        assert exports == (0,)
        # OTLP/HTTP, where a collector would send its spans.
        exported = httpx.post(
            f"{endpoints['otlp-http']}/v1/traces",
            json={"resourceSpans": [{"scopeSpans": [{"spans": [
                {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "collected", "startTimeUnixNano": "1"}
            ]}]}]},
            headers={"x-agyn-caller": "otel-collector"},
            timeout=30,
        )  # fmt: skip
        assert (exported.status_code, exported.json()) == (200, {})

        # One platform per state directory.
        second = subprocess.run(
            [sys.executable, "-m", "agyn_local", "up", "--dir", str(state_dir), "--base-port", "0"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert second.returncode == 1
        assert "another `make up` is running" in second.stderr

        up.process.send_signal(signal.SIGTERM)
        returncode, stdout, stderr = up.finish()
        assert returncode == 0, stderr
        # It said what it waited for, in order, before the endpoints.
        waits = [
            line
            for line in stdout.splitlines()
            if line.startswith(("waiting for", "creating", "registering"))
        ]
        assert waits == [
            "waiting for postgres… ready",
            "waiting for nats… ready",
            "waiting for s3… ready",
            *(
                f"waiting for {service.name} (SERVING)… ready"
                for service in SERVICES
                if not service.local_runner
            ),
            "creating the local admin… done",
            "registering the local runner… done",
            "waiting for runner (SERVING)… ready",
            "waiting for runner to enroll… ready",
        ]
        assert "Agyn is up" in stdout
        assert not up.endpoints_path.exists()
        for name in ("users", "organizations", "threads", "notifications", "gateway"):
            log_lines = (state_dir / "logs" / f"{name}.log").read_text().splitlines()
            messages = [json.loads(line)["message"] for line in log_lines if line.startswith("{")]
            # The stop sequence, without a lame duck locally.
            assert "stopping: NOT_SERVING, still serving for the 0s lame duck" in messages
            assert messages[-1] == "stopped"
            assert service_pids(f"agyn_{name}", endpoints[name]) == []

    # The second run keeps the admin, its token and the users made before.
    with running_up(state_dir, nats_port) as up:
        endpoints = up.wait_until_up()
        assert (state_dir / "admin-token").read_text().strip() == token
        assert (state_dir / "admin-identity-id").read_text().strip() == admin_id
        with client(users_pb2_grpc.UsersServiceStub, endpoints["users"], admin_id) as users:
            listed = users.ListUsers(users_pb2.ListUsersRequest(page_size=10))
            assert {user.oidc_subject for user in listed.users} >= {"local|ada", "local|grace"}
        with client(
            organizations_pb2_grpc.OrganizationsServiceStub, endpoints["organizations"], admin_id
        ) as orgs:
            listed_orgs = orgs.ListOrganizations(organizations_pb2.ListOrganizationsRequest())
            assert [org.name for org in listed_orgs.organizations] == ["Local"]

        # A service that dies takes the platform down with a non-zero exit, naming it.
        (users_pid,) = service_pids("agyn_users", endpoints["users"])
        subprocess.run(["kill", "-KILL", str(users_pid)], check=True)
        returncode, _, stderr = up.finish()
        assert returncode == 1
        assert "users exited" in stderr
        assert not up.endpoints_path.exists()
    s3_port = int(endpoints["s3"].rsplit(":", 1)[1])
    for port in (nats_port, s3_port):  # NATS and the S3 store stopped with it
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_up_refuses_a_busy_port_with_one_line(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "agyn_local", "up", "--dir", str(tmp_path), "--base-port", str(busy)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"agyn-local: port {busy} for users is in use; choose another with --base-port"
    )


MESSAGE, LLM_CALL, TOOL_EXECUTION = (
    tracing_pb2.RUN_EVENT_KIND_MESSAGE,
    tracing_pb2.RUN_EVENT_KIND_LLM_CALL,
    tracing_pb2.RUN_EVENT_KIND_TOOL_EXECUTION,
)
CREATED, UPDATED = tracing_pb2.RUN_EVENT_ACTION_CREATED, tracing_pb2.RUN_EVENT_ACTION_UPDATED


def attributes(message: Any) -> dict[str, str]:
    """The string attributes of an OTLP span or resource."""
    return {kv.key: kv.value.string_value for kv in message.attributes}


def test_up_shows_the_readme_run_of_spans_live_and_lists_it(tmp_path):
    """The README's Tracing example: a workload credential from `agent-credential`, the SDK
    script exporting with it, StreamRunEvents through the Gateway showing each export as it
    lands, then ListSpans through the Gateway."""
    state_dir = tmp_path / "local"
    with running_up(state_dir, free_port()) as up:
        endpoints = up.wait_until_up()
        token = (state_dir / "admin-token").read_text().strip()

        def gw(method: str, body: dict[str, Any]) -> Any:
            reply = httpx.post(
                f"http://{endpoints['gateway']}/api/agynio.api.{method}",
                headers={"Authorization": f"Bearer {token}"},
                json=body,
                timeout=30,
            )
            assert reply.status_code == 200, reply.text
            return reply.json()

        org = gw("organizations.v1.OrganizationsGateway/CreateOrganization", {"name": "Acme"})
        org_id = org["organization"]["id"]
        agent = gw(
            "agents.v1.AgentsGateway/CreateAgent",
            {"organizationId": org_id, "name": "Helper", "nickname": "helper",
             "model": "3f0c1b1e-8a52-4a36-9d5e-2f4f7c9d6a11", "image": "ghcr.io/example/agent:1",
             "initImage": "ghcr.io/example/init:1", "availability": "AGENT_AVAILABILITY_INTERNAL"},
        )["agent"]["meta"]["id"]  # fmt: skip
        issued = subprocess.run(
            [sys.executable, "-m", "agyn_local", "agent-credential", "--dir", str(state_dir),
             "--agent-id", agent],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        workload = json.loads(issued.stdout)
        assert workload["credential"].startswith("agynw_")

        request = tracing_pb2.StreamRunEventsRequest(
            organization_id=org_id, workload_id=workload["workload_id"], replay=True
        )
        events: list[tracing_pb2.RunEvent] = []
        with grpc.insecure_channel(endpoints["gateway"]) as channel:
            stream = channel.unary_stream(
                "/agynio.api.tracing.v1.TracingGateway/StreamRunEvents",
                request_serializer=tracing_pb2.StreamRunEventsRequest.SerializeToString,
                response_deserializer=tracing_pb2.StreamRunEventsResponse.FromString,
            )(request, metadata=[("authorization", f"Bearer {token}")], timeout=60)
            assert next(stream).replay_complete.replayed_spans == 0  # nothing exported yet
            exporting = subprocess.Popen(
                [sys.executable, str(EXPORT_SPANS), "--endpoint", endpoints["tracing"]],
                env={**os.environ, "AGYN_WORKLOAD_CREDENTIAL": workload["credential"]},
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            for reply in stream:  # until the script's last export: the message, ended
                if reply.HasField("event"):
                    events.append(reply.event)
                    if (reply.event.kind, reply.event.status) == (MESSAGE, tracing_pb2.SPAN_STATUS_OK):
                        break
            stream.cancel()
        stdout, stderr = exporting.communicate(timeout=60)
        assert exporting.returncode == 0, stderr
        trace_id = json.loads(stdout)["trace_id"]

        # Live: every span created or updated on the stream as it came, none replayed; the tool
        # updated as its output grew, with the workload Tracing resolved from the credential.
        assert {event.kind for event in events} == {MESSAGE, LLM_CALL, TOOL_EXECUTION}
        assert {event.action for event in events} <= {CREATED, UPDATED}
        tool = [event for event in events if event.kind == TOOL_EXECUTION]
        assert tool[-1].action == UPDATED and tool[-1].status == tracing_pb2.SPAN_STATUS_OK
        outputs = [
            attributes(event.resource_spans.scope_spans[0].spans[0])["agyn.tool.output"] for event in tool
        ]
        assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(outputs))
        assert outputs[-1].count("\n") == 2  # the script's three lines
        for event in events:
            resource = attributes(event.resource_spans.resource)
            assert (resource["agyn.workload.id"], resource["agyn.agent.id"]) == (
                workload["workload_id"],
                agent,
            )
            assert event.resource_spans.scope_spans[0].spans[0].trace_id.hex() == trace_id

        # ListSpans through the Gateway, as the README's `gw` calls it.
        listed = gw("tracing.v1.TracingGateway/ListSpans", {"organizationId": org_id})
        (resource_spans,) = listed["resourceSpans"]
        resource = {kv["key"]: kv["value"]["stringValue"] for kv in resource_spans["resource"]["attributes"]}
        assert resource["agyn.workload.id"] == workload["workload_id"]
        spans = [span for scope in resource_spans["scopeSpans"] for span in scope["spans"]]
        assert sorted(span["name"] for span in spans) == ["invocation.message", "llm.call", "tool.execution"]
        assert all(span.get("endTimeUnixNano") for span in spans)  # each in its last state: ended
