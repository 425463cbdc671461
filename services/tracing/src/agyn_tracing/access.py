"""Who may call the tracing deployable (files-tracing B.4; DESIGN §3, §6).

The single source for the in-process check and the Istio AuthorizationPolicy; every method of
the served services needs an entry, or tools/deploy/tests/test_method_tables.py fails.

Export (and its OTLP/HTTP twin) is open to any workload: agent pods present their workload
credential, which the service resolves itself; platform services are named by the mesh (or
x-agyn-caller locally).
"""

from agyn_common.access import AccessBuilder, IdentityRule

TRACING = "agynio.api.tracing.v1.TracingService"
TRACE_ACCESS = "agynio.api.tracing.v1.TraceAccessService"
OTLP_TRACES = "opentelemetry.proto.collector.trace.v1.TraceService"
# OTLP/HTTP's traces path, on the HTTP port (agyn_tracing.otlp_http).
OTLP_HTTP_TRACES = "/v1/traces"

ACCESS = (
    AccessBuilder("tracing")
    .through_gateway(TRACING)
    .allow(TRACE_ACCESS, ["GetTraceOrganization"], callers=["notifications"], identity=IdentityRule.NONE)
    .open_to_any_workload(OTLP_TRACES, ["Export"])
    .open_http_to_any_workload([OTLP_HTTP_TRACES])
    .build()
)
