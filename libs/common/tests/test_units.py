"""The pure parts of libs/common, each on its own: page tokens, field checks, rate limits,
caller metadata, the calling workload in both access modes, the JSON log line, the spans
a service never records, and another service's answer passed on."""

from __future__ import annotations

import json
import logging
import sys
import uuid

import grpc
import pytest
from agyn_common.access import (
    LOCAL_CALLER_KEY,
    XFCC_KEY,
    AccessBuilder,
    AccessMode,
    AccessPolicy,
    IdentityRule,
    principal_from_xfcc,
)
from agyn_common.caller import IDENTITY_ID_KEY, IDENTITY_TYPE_KEY, caller_from_metadata
from agyn_common.errors import STATUS_DETAILS_KEY, ServiceError, failed_precondition, passed_on
from agyn_common.logs import JsonFormatter, TextFormatter
from agyn_common.pagination import (
    clamp_page_size,
    decode_page_token,
    decode_uuid_page_token,
    encode_page_token,
)
from agyn_common.ratelimit import RateLimiter
from agyn_common.telemetry import Unrecorded
from agyn_common.validation import check_length, parse_uuid, parse_uuid_list
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context


def raised(call, *args, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        call(*args, **kwargs)
    return caught.value


# --- page tokens -------------------------------------------------------------------------


@pytest.mark.parametrize(("requested", "expected"), [(0, 50), (-3, 50), (1, 1), (100, 100), (101, 100)])
def test_page_size_defaults_and_clamps(requested, expected):
    assert clamp_page_size(requested) == expected


def test_page_token_round_trips_several_parts():
    token = encode_page_token("2026-11-23T10:00:00+00:00", "Zoë", "a/b+c")
    assert "=" not in token
    assert decode_page_token(token, parts=3) == ["2026-11-23T10:00:00+00:00", "Zoë", "a/b+c"]


def test_uuid_page_token_round_trips_and_empty_is_first_page():
    key = uuid.uuid4()
    assert decode_uuid_page_token(encode_page_token(str(key))) == key
    assert decode_uuid_page_token("") is None


@pytest.mark.parametrize(
    "token",
    ["%%%", "@@@@", encode_page_token("not-a-uuid"), encode_page_token("a", "b"), "_-8"],
)
def test_bad_page_tokens_are_invalid_argument_on_page_token(token):
    error = raised(decode_uuid_page_token, token)
    assert error.code is grpc.StatusCode.INVALID_ARGUMENT
    assert error.message.startswith("page_token:")


# --- field checks --------------------------------------------------------------------------


def test_parse_uuid_accepts_and_names_the_field_when_bad():
    key = uuid.uuid4()
    assert parse_uuid(str(key), "user_id") == key
    assert raised(parse_uuid, "", "user_id").message == "user_id: must be a UUID, got an empty value"
    error = raised(parse_uuid, "x" * 500, "user_id")
    assert error.code is grpc.StatusCode.INVALID_ARGUMENT
    assert len(error.message) < 120  # the echoed value is cut short


def test_parse_uuid_list_bounds_and_indexes():
    keys = [uuid.uuid4() for _ in range(3)]
    assert parse_uuid_list([str(key) for key in keys], "ids", max_items=3) == keys
    assert (
        "exceeds maximum of 2" in raised(parse_uuid_list, [str(k) for k in keys], "ids", max_items=2).message
    )
    assert raised(parse_uuid_list, [str(keys[0]), "nope"], "ids", max_items=5).message.startswith("ids[1]:")


def test_check_length():
    assert check_length("abc", "name", max_chars=3) == "abc"
    assert check_length("", "name", max_chars=3) == ""
    assert raised(check_length, "", "name", max_chars=3, required=True).message == "name: must not be empty"
    assert (
        raised(check_length, "abcd", "name", max_chars=3).message
        == "name: must be at most 3 characters, got 4"
    )


# --- rate limits ---------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_spends_the_burst_then_refills():
    clock = FakeClock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")  # buckets are per key
    clock.now += 0.5  # one token back at 2 per second
    assert limiter.allow("a")
    assert not limiter.allow("a")
    clock.now += 60  # refill is capped at the burst
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]


def test_rate_limiter_available_looks_without_spending():
    clock = FakeClock()
    limiter = RateLimiter(rate=1.0, burst=2, clock=clock)
    assert limiter.available("a") and limiter.available("a")
    assert limiter.allow("a") and limiter.allow("a")
    assert not limiter.available("a")
    clock.now += 1.0
    assert limiter.available("a")
    assert limiter.allow("a")


def test_rate_limiter_forgets_least_recently_used_keys():
    clock = FakeClock()
    limiter = RateLimiter(rate=0.0, burst=1, max_keys=2, clock=clock)
    assert limiter.allow("a") and limiter.allow("b")
    assert limiter.allow("c")  # pushes "a" out
    assert limiter.allow("a")  # so "a" starts with a full bucket again
    assert not limiter.allow("c")


# --- caller metadata -----------------------------------------------------------------------


def test_caller_from_metadata_reads_identity_and_type():
    key = uuid.uuid4()
    caller = caller_from_metadata([(IDENTITY_ID_KEY, f" {key} "), (IDENTITY_TYPE_KEY, "agent")])
    assert caller.identity_id == key
    assert caller.identity_type == "agent"
    assert caller.require_identity() == key
    assert caller.outgoing_metadata() == [(IDENTITY_ID_KEY, str(key)), (IDENTITY_TYPE_KEY, "agent")]


def test_anonymous_caller():
    caller = caller_from_metadata([("other", "x")])
    assert caller.identity_id is None
    assert caller.outgoing_metadata() == []
    assert raised(caller.require_identity).code is grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize(
    "metadata",
    [
        [(IDENTITY_ID_KEY, "not-a-uuid")],
        [(IDENTITY_ID_KEY, str(uuid.uuid4())), (IDENTITY_ID_KEY, str(uuid.uuid4()))],
        [(IDENTITY_ID_KEY, str(uuid.uuid4())), (IDENTITY_TYPE_KEY, "robot")],
        [(IDENTITY_ID_KEY, str(uuid.uuid4())), (IDENTITY_TYPE_KEY, "user"), (IDENTITY_TYPE_KEY, "agent")],
    ],
)
def test_malformed_identity_metadata_is_unauthenticated(metadata):
    assert raised(caller_from_metadata, metadata).code is grpc.StatusCode.UNAUTHENTICATED


# --- calling workload ----------------------------------------------------------------------

SPIFFE = "spiffe://cluster.local/ns/{ns}/sa/{sa}"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "By=spiffe://cluster.local/ns/agyn/sa/users;Hash=abc;"
            f"URI={SPIFFE.format(ns='agyn', sa='gateway')}",
            ("agyn", "gateway"),
        ),
        (f'Hash=abc;Subject="";URI={SPIFFE.format(ns="agyn", sa="threads")}', ("agyn", "threads")),
        # chained proxies: the last element is the hop that reached this sidecar
        (f"URI={SPIFFE.format(ns='a', sa='first')},URI={SPIFFE.format(ns='b', sa='last')}", ("b", "last")),
        ('Hash=abc;Subject="CN=x"', None),
        ("URI=https://example.com/not-spiffe", None),
        ("", None),
    ],
)
def test_principal_from_xfcc(header, expected):
    assert principal_from_xfcc(header) == expected


DECLARATION = (
    AccessBuilder("users")
    .allow("agyn.x.v1.X", ["Get"], ["gateway"], IdentityRule.REQUIRED)
    .allow("agyn.x.v1.X", ["Resolve"], ["gateway"], IdentityRule.NONE)
    .build()
)


def xfcc(ns: str, sa: str) -> tuple[str, str]:
    return (XFCC_KEY, f"Hash=1;URI={SPIFFE.format(ns=ns, sa=sa)}")


def test_mesh_mode_reads_the_workload_and_checks_the_namespace():
    policy = AccessPolicy(DECLARATION, AccessMode.MESH, namespace="agyn")
    assert policy.calling_workload([xfcc("agyn", "gateway")], "ipv4:10.0.0.7:4000") == "gateway"
    assert policy.calling_workload([xfcc("other", "gateway")], "ipv4:10.0.0.7:4000") is None
    assert policy.calling_workload([(LOCAL_CALLER_KEY, "gateway")], "ipv4:127.0.0.1:1") is None
    policy.check("/agyn.x.v1.X/Resolve", [xfcc("agyn", "gateway")], "ipv4:10.0.0.7:4000")
    error = raised(policy.check, "/agyn.x.v1.X/Resolve", [xfcc("other", "gateway")], "ipv4:10.0.0.7:4000")
    assert error.code is grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("peer", "trusted"),
    [
        ("ipv4:127.0.0.1:5000", True),
        ("ipv6:[::1]:5000", True),
        ("unix:/tmp/agyn.sock", True),
        ("ipv4:10.1.2.3:5000", False),
        ("ipv6:[2001:db8::1]:5000", False),
    ],
)
def test_local_mode_trusts_the_caller_header_from_loopback_only(peer, trusted):
    policy = AccessPolicy(DECLARATION, AccessMode.LOCAL)
    assert policy.calling_workload([(LOCAL_CALLER_KEY, "gateway")], peer) == ("gateway" if trusted else None)


def test_network_mode_trusts_the_caller_header_from_any_peer_but_not_a_certificate():
    policy = AccessPolicy(DECLARATION, AccessMode.NETWORK)
    assert policy.calling_workload([(LOCAL_CALLER_KEY, "gateway")], "ipv4:10.1.2.3:5000") == "gateway"
    assert policy.calling_workload([xfcc("agyn", "gateway")], "ipv4:10.1.2.3:5000") is None
    twice = [(LOCAL_CALLER_KEY, "gateway"), (LOCAL_CALLER_KEY, "threads")]
    assert policy.calling_workload(twice, "ipv4:10.1.2.3:5000") is None


def test_identity_rules():
    policy = AccessPolicy(DECLARATION, AccessMode.LOCAL)
    peer = "ipv4:127.0.0.1:1"
    gateway = (LOCAL_CALLER_KEY, "gateway")
    assert raised(policy.check, "/agyn.x.v1.X/Get", [gateway], peer).code is grpc.StatusCode.UNAUTHENTICATED
    policy.check("/agyn.x.v1.X/Get", [gateway, (IDENTITY_ID_KEY, str(uuid.uuid4()))], peer)
    # NONE does not consult identity at all, even a malformed one
    policy.check("/agyn.x.v1.X/Resolve", [gateway, (IDENTITY_ID_KEY, "garbage")], peer)
    # health and reflection are open to anyone
    policy.check("/grpc.health.v1.Health/Check", [], "ipv4:10.9.9.9:1")


# --- log lines -----------------------------------------------------------------------------


def log_record(message: str, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("agyn.test", logging.WARNING, __file__, 1, message, (), exc_info)


def test_json_log_line_without_a_span():
    entry = json.loads(JsonFormatter("users").format(log_record("plain ünïcode")))
    assert entry["service"] == "users"
    assert entry["level"] == "WARNING"
    assert entry["message"] == "plain ünïcode"
    assert "trace_id" not in entry


def test_json_log_line_carries_the_active_trace_and_the_error():
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        try:
            raise ValueError("boom")
        except ValueError:
            line = JsonFormatter("users").format(log_record("failed", sys.exc_info()))
    entry = json.loads(line)
    assert entry["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert entry["span_id"] == format(span.get_span_context().span_id, "016x")
    assert "ValueError: boom" in entry["error"]
    assert "\n" not in line


def test_text_log_line_reads_as_one_line_with_the_trace_and_the_traceback_after():
    assert (
        TextFormatter("users")
        .format(log_record("plain ünïcode"))
        .endswith(" WARNING users agyn.test: plain ünïcode")
    )
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        try:
            raise ValueError("boom")
        except ValueError:
            line = TextFormatter("users").format(log_record("failed", sys.exc_info()))
    first, *traceback = line.splitlines()
    assert first.endswith(
        f" WARNING users agyn.test: failed trace_id={span.get_span_context().trace_id:032x}"
    )
    assert traceback[-1] == "ValueError: boom"


def test_unrecorded_spans_and_what_runs_under_them_are_dropped_even_in_a_sampled_trace():
    spans = InMemorySpanExporter()
    provider = TracerProvider(sampler=Unrecorded({"Export"}, ParentBased(ALWAYS_ON)))
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracer = provider.get_tracer("test")
    caller = SpanContext(0xAB, 0xCD, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    exported_in = set_span_in_context(NonRecordingSpan(caller))
    with tracer.start_as_current_span("Export", context=exported_in), tracer.start_as_current_span("Resolve"):
        pass
    with tracer.start_as_current_span("ListSpans"):
        pass
    assert [span.name for span in spans.get_finished_spans()] == ["ListSpans"]


# --- another service's answer, passed on ------------------------------------------------------


def downstream_error(code: grpc.StatusCode, details: str, trailing: tuple = ()) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(*trailing), details)


def test_a_decision_passes_on_with_its_details_and_a_failure_is_unavailable_naming_the_service():
    refused = failed_precondition("thread is degraded", "THREAD_DEGRADED")
    error = downstream_error(
        refused.code, refused.message, ((STATUS_DETAILS_KEY, refused.to_status().SerializeToString()),)
    )
    passed = passed_on("threads", error)
    assert (passed.code, passed.message) == (grpc.StatusCode.FAILED_PRECONDITION, "thread is degraded")
    assert passed.to_status() == refused.to_status()  # the details as the callee packed them
    plain = passed_on("threads", downstream_error(grpc.StatusCode.NOT_FOUND, ""))
    assert (plain.code, plain.message, plain.details) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND", ())
    for code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAUTHENTICATED):
        away = passed_on("threads", downstream_error(code, "boom"))
        assert away.code == grpc.StatusCode.UNAVAILABLE
        assert away.message == f"threads is unavailable: {code.name}"
