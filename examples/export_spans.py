"""An agent's run exported to Tracing with the OpenTelemetry SDK, against `make up`.

    AGYN_WORKLOAD_CREDENTIAL=agynw_... .venv/bin/python examples/export_spans.py

The credential is a workload's (`python -m agyn_local agent-credential --agent-id <id>`), sent
as `authorization: Bearer` with every Export: Tracing resolves it and sets `agyn.agent.id`,
`agyn.organization.id` and `agyn.workload.id` on the spans itself. The run: an
`invocation.message`, an `llm.call` with its token usage, and a `tool.execution` exported
again each time its output grows. A span in progress (end time 0) may be exported any number
of times; Tracing keeps its last state, and StreamRunEvents shows each export as it comes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from agyn_local.platform import StartupFailed, read_endpoints
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult

TOOL_OUTPUT = ["ruff: all checks passed", "mypy: no issues found", "pytest: 214 passed"]
STEP_SECONDS = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        "--credential",
        default=os.environ.get("AGYN_WORKLOAD_CREDENTIAL"),
        help="the workload credential (default: $AGYN_WORKLOAD_CREDENTIAL)",
    )
    parser.add_argument(
        "--endpoint", help="Tracing's OTLP/gRPC host:port (default: `tracing` in the local endpoints.json)"
    )
    options = parser.parse_args()
    if not options.credential:
        parser.error("give the workload credential: --credential or AGYN_WORKLOAD_CREDENTIAL")
    endpoint = options.endpoint
    if endpoint is None:
        try:
            endpoint = read_endpoints(Path(os.environ.get("AGYN_LOCAL_DIR", ".agyn/local")))["tracing"]
        except StartupFailed as failure:
            parser.exit(1, f"{failure}\n")

    exporter = OTLPSpanExporter(
        endpoint=endpoint, insecure=True, headers={"authorization": f"Bearer {options.credential}"}
    )
    tracer = TracerProvider(resource=Resource.create({"service.name": "example-agent"})).get_tracer(
        "agyn.example"
    )

    # Each state is exported by hand (an agent's BatchSpanProcessor sends ended spans only).
    def export(span: trace.Span) -> None:
        assert isinstance(span, ReadableSpan)  # what the SDK's tracer makes
        if exporter.export([span]) is not SpanExportResult.SUCCESS:
            raise SystemExit(f"exporting {span.name} to {endpoint} failed (the reason is logged above)")

    message = tracer.start_span(
        "invocation.message",
        attributes={
            "agyn.message.role": "user",
            "agyn.message.kind": "source",
            "agyn.message.text": "Do the tests pass?",
        },
    )
    export(message)  # in progress: the run shows at once
    in_message = trace.set_span_in_context(message)
    llm = tracer.start_span(
        "llm.call",
        context=in_message,
        attributes={
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4.1",
            "gen_ai.response.finish_reason": "tool_calls",
            "gen_ai.usage.input_tokens": 1250,
            "gen_ai.usage.output_tokens": 48,
            "gen_ai.usage.cache_read.input_tokens": 1024,
            "agyn.llm.tool_calls": json.dumps(
                [{"call_id": "call_1", "name": "shell", "arguments": '{"command": "make test"}'}]
            ),
        },
    )
    llm.end()
    export(llm)
    tool = tracer.start_span(
        "tool.execution",
        context=in_message,
        attributes={
            "agyn.tool.name": "shell",
            "agyn.tool.call_id": "call_1",
            "agyn.tool.input": json.dumps({"command": "make test"}),
        },
    )
    for lines in range(1, len(TOOL_OUTPUT) + 1):
        tool.set_attribute("agyn.tool.output", "\n".join(TOOL_OUTPUT[:lines]))
        export(tool)  # the same span again, its output longer: an UPDATED run event
        time.sleep(STEP_SECONDS)
    tool.end()
    export(tool)
    message.end()
    export(message)
    exporter.shutdown()
    print(json.dumps({"trace_id": trace.format_trace_id(message.get_span_context().trace_id)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
