"""The descriptor-driven checks of every request's strings and timestamps."""

from __future__ import annotations

import grpc
import pytest
from agyn_common.errors import ServiceError
from agyn_common.request_checks import _plan, check_request
from agyn_common.timestamps import MAX_SECONDS, MIN_SECONDS
from agynio.api.organizations.v1 import access_pb2
from agynio.api.threads.v1 import threads_pb2
from google.protobuf import struct_pb2, timestamp_pb2, wrappers_pb2
from google.protobuf.message import Message


def violation(message: Message) -> str:
    """The message of the INVALID_ARGUMENT `check_request` raises for `message`."""
    with pytest.raises(ServiceError) as caught:
        check_request(message)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    return caught.value.message


def thread_filter(**stamp: int) -> threads_pb2.ListOrganizationThreadsRequest:
    return threads_pb2.ListOrganizationThreadsRequest(
        filter=threads_pb2.ListOrganizationThreadsFilter(created_after=timestamp_pb2.Timestamp(**stamp))
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (wrappers_pb2.StringValue(value="a\0b"), "value: must not contain NUL characters"),
        (
            threads_pb2.CreateThreadRequest(participant_ids=["ok", "bad\0"]),
            "participant_ids[1]: must not contain NUL characters",
        ),
        (  # nested, repeated, in a oneof
            threads_pb2.CreateThreadRequest(
                participants=[
                    threads_pb2.ParticipantIdentifier(participant_id="fine"),
                    threads_pb2.ParticipantIdentifier(participant_nickname="\0"),
                ]
            ),
            "participants[1].participant_nickname: must not contain NUL characters",
        ),
        (  # a map key
            threads_pb2.GetUnackedMessageCountsResponse(counts_by_thread_id={"t\0": 1}),
            "counts_by_thread_id['t\\x00']: key must not contain NUL characters",
        ),
        (  # a map value that is a message
            access_pb2.BatchCheckOrganizationRelationsResponse(
                results={"r": access_pb2.OrganizationRelationCheckResult(error="\0")}
            ),
            "results['r'].error: must not contain NUL characters",
        ),
        (  # a map value inside a recursive type
            struct_pb2.Struct(
                fields={
                    "a": struct_pb2.Value(
                        list_value=struct_pb2.ListValue(
                            values=[
                                struct_pb2.Value(string_value="x"),
                                struct_pb2.Value(
                                    struct_value=struct_pb2.Struct(
                                        fields={"b": struct_pb2.Value(string_value="\0")}
                                    )
                                ),
                            ]
                        )
                    )
                }
            ),
            "fields['a'].list_value.values[1].struct_value.fields['b'].string_value: "
            "must not contain NUL characters",
        ),
        (
            thread_filter(seconds=2**62),
            "filter.created_after: must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z",
        ),
        (
            thread_filter(seconds=MIN_SECONDS - 1),
            "filter.created_after: must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z",
        ),
        (thread_filter(nanos=10**9), "filter.created_after: nanos must be between 0 and 999999999"),
        (thread_filter(nanos=-1), "filter.created_after: nanos must be between 0 and 999999999"),
    ],
)
def test_a_nul_or_a_timestamp_out_of_range_is_invalid_argument_naming_its_path(message, expected):
    assert violation(message) == expected


@pytest.mark.parametrize(
    "message",
    [
        # Newlines, tabs and other control characters are text PostgreSQL stores.
        threads_pb2.SendMessageRequest(thread_id="t", body="line 1\nline 2\tand \x01\x1b\x7f, ünïcødé"),
        thread_filter(seconds=MIN_SECONDS),
        thread_filter(seconds=MAX_SECONDS, nanos=999_999_999),
        threads_pb2.GetUnackedMessageCountsResponse(counts_by_thread_id={"t": 1}),
        access_pb2.BatchCheckOrganizationRelationsResponse(
            results={"r": access_pb2.OrganizationRelationCheckResult(allowed=True, error="")}
        ),
        wrappers_pb2.Int64Value(value=-(2**63)),
    ],
)
def test_valid_requests_pass(message):
    check_request(message)


def test_types_without_strings_or_timestamps_are_not_walked_and_plans_are_cached():
    assert _plan(wrappers_pb2.Int64Value.DESCRIPTOR) == frozenset()
    sort = threads_pb2.ListOrganizationThreadsSort.DESCRIPTOR  # enums only
    assert _plan(sort) == frozenset()
    request = threads_pb2.ListOrganizationThreadsRequest.DESCRIPTOR
    assert {field.name for field in _plan(request)} == {"organization_id", "filter", "page_token"}
    assert _plan(request) is _plan(request)
