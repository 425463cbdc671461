"""The span store's protojson, written directly for plain values, equals MessageToDict's for
every message (files-tracing B.6: the stored JSON is protojson)."""

from __future__ import annotations

import json

from agyn_tracing import otlp_json
from google.protobuf.json_format import MessageToDict
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
UINT32 = st.integers(min_value=0, max_value=2**32 - 1)

scalars = st.one_of(
    st.builds(lambda v: common_pb2.AnyValue(string_value=v), st.text()),
    st.builds(lambda v: common_pb2.AnyValue(bool_value=v), st.booleans()),
    st.builds(lambda v: common_pb2.AnyValue(int_value=v), INT64),
    st.builds(lambda v: common_pb2.AnyValue(double_value=v), st.floats()),  # NaN and infinities too
    st.builds(lambda v: common_pb2.AnyValue(bytes_value=v), st.binary()),
    st.builds(lambda v: common_pb2.AnyValue(string_value_strindex=v), st.integers(-5, 5)),
    st.just(common_pb2.AnyValue()),
)


def _pair(key: str, value: common_pb2.AnyValue | None, strindex: int) -> common_pb2.KeyValue:
    pair = common_pb2.KeyValue(key=key, key_strindex=strindex)
    if value is not None:
        pair.value.CopyFrom(value)
    return pair


def _nested(values: st.SearchStrategy[common_pb2.AnyValue]) -> st.SearchStrategy[common_pb2.AnyValue]:
    pairs = st.builds(_pair, st.text(max_size=5), st.none() | values, st.integers(0, 2))
    return st.one_of(
        st.builds(
            lambda items: common_pb2.AnyValue(array_value=common_pb2.ArrayValue(values=items)),
            st.lists(values, max_size=4),
        ),
        st.builds(
            lambda items: common_pb2.AnyValue(kvlist_value=common_pb2.KeyValueList(values=items)),
            st.lists(pairs, max_size=4),
        ),
    )


values = st.recursive(scalars, _nested, max_leaves=12)
pairs = st.builds(_pair, st.text(max_size=8), st.none() | values, st.sampled_from([0, 0, 0, 3]))
events = st.builds(
    trace_pb2.Span.Event,
    time_unix_nano=st.integers(0, 2**64 - 1),
    name=st.text(max_size=8),
    attributes=st.lists(pairs, max_size=4),
    dropped_attributes_count=UINT32,
)


def same_json(written: object, expected: object) -> bool:
    # As stored: JSON text (NaN never compares equal to itself in Python).
    return json.dumps(written, sort_keys=True) == json.dumps(expected, sort_keys=True)


@settings(max_examples=400, deadline=None)
@given(st.lists(pairs, max_size=6))
def test_attributes_are_protojson(attributes):
    assert same_json(otlp_json.attributes(attributes), [MessageToDict(pair) for pair in attributes])


@settings(max_examples=200, deadline=None)
@given(events)
def test_events_are_protojson(event):
    assert same_json(otlp_json.event(event), MessageToDict(event))
