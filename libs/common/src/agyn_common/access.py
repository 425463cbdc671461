"""The method table: which workloads may call which method, with what identity, and whether
the method honours `idempotency-key` (DESIGN §3, §6).

Each service declares, for every method it serves, the calling ServiceAccounts and whether
the call must carry an end-user identity. The same declaration feeds two enforcers: the
Istio AuthorizationPolicies rendered for Kubernetes, and `AccessPolicy.check` inside the
process, which reads the calling workload from Istio's `x-forwarded-client-cert` header in
mesh mode, from `x-agyn-caller` in local mode (loopback peers only), or from `x-agyn-caller`
in network mode (a Kubernetes install without a mesh, where NetworkPolicies admit only the
declared callers' pods).
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field

from agyn_common.caller import Metadata, caller_from_metadata, metadata_values
from agyn_common.errors import permission_denied, unauthenticated
from agyn_common.gateway_surface import GATEWAY_WORKLOAD, exposed_methods

XFCC_KEY = "x-forwarded-client-cert"
LOCAL_CALLER_KEY = "x-agyn-caller"

# Always reachable, whoever calls: probes and tooling.
OPEN_SERVICES = (
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
)

# In a grant's callers: any workload, named or not (an OTLP exporter in an agent's pod). The
# method authenticates its callers itself; Istio lets every peer reach it.
ANY_WORKLOAD = "*"

_SPIFFE_SA = re.compile(r"spiffe://[^/]+/ns/(?P<ns>[^/]+)/sa/(?P<sa>[^/;,\"]+)")


class IdentityRule(enum.Enum):
    REQUIRED = "required"  # the caller forwards an end-user identity
    OPTIONAL = "optional"  # a platform caller; an identity may be present
    NONE = "none"  # pre-authentication or platform call; identity is not consulted


@dataclass(frozen=True)
class Grant:
    callers: frozenset[str]
    identity: IdentityRule


@dataclass(frozen=True)
class ServiceAccess:
    """The declaration of one deployable: its ServiceAccount and a grant list per method path."""

    service_account: str
    methods: Mapping[str, tuple[Grant, ...]]
    # Method paths whose calls the pipeline runs once per `idempotency-key` (DESIGN §6).
    idempotent: frozenset[str] = frozenset()
    # Paths of the service's HTTP port (`Runtime.serve_http`) any workload may POST to; their
    # handlers authenticate the caller, as those of ANY_WORKLOAD methods do.
    open_http_paths: tuple[str, ...] = ()

    def grants_for(self, method_path: str) -> tuple[Grant, ...]:
        return self.methods.get(method_path, ())

    @property
    def open_paths(self) -> tuple[str, ...]:
        """The methods any workload may call."""
        return tuple(
            path for path, grants in self.methods.items() if any(ANY_WORKLOAD in g.callers for g in grants)
        )


@dataclass
class AccessBuilder:
    service_account: str
    _methods: dict[str, list[Grant]] = field(default_factory=dict)
    _idempotent: set[str] = field(default_factory=set)
    _open_http_paths: list[str] = field(default_factory=list)

    def allow(
        self, service: str, methods: Iterable[str], callers: Iterable[str], identity: IdentityRule
    ) -> AccessBuilder:
        grant = Grant(callers=frozenset(callers), identity=identity)
        for method in methods:
            self._methods.setdefault(f"/{service}/{method}", []).append(grant)
        return self

    def through_gateway(self, service: str, identity: IdentityRule = IdentityRule.REQUIRED) -> AccessBuilder:
        """The gateway workload on every method the gateway protos expose of `service`."""
        return self.allow(service, exposed_methods(service), callers=[GATEWAY_WORKLOAD], identity=identity)

    def open_to_any_workload(self, service: str, methods: Iterable[str]) -> AccessBuilder:
        """Any caller, even one that names no workload: the method authenticates it itself."""
        return self.allow(service, methods, callers=[ANY_WORKLOAD], identity=IdentityRule.NONE)

    def open_http_to_any_workload(self, paths: Iterable[str]) -> AccessBuilder:
        """POST to these paths of the service's HTTP port, by any caller: the handler
        authenticates it itself."""
        self._open_http_paths.extend(paths)
        return self

    def idempotent(self, service: str, methods: Iterable[str]) -> AccessBuilder:
        """These create-style methods honour `idempotency-key`."""
        self._idempotent.update(f"/{service}/{method}" for method in methods)
        return self

    def build(self) -> ServiceAccess:
        return ServiceAccess(
            self.service_account,
            {path: tuple(grants) for path, grants in self._methods.items()},
            frozenset(self._idempotent),
            tuple(self._open_http_paths),
        )


def is_open_method(method_path: str) -> bool:
    return any(method_path.startswith(f"/{service}/") for service in OPEN_SERVICES)


def principal_from_xfcc(header: str) -> tuple[str, str] | None:
    """(namespace, service account) of the client certificate Istio saw, or None.

    The header may hold several comma-separated elements when proxies chain; the last one
    describes the hop that reached this sidecar.
    """
    elements = [element for element in header.split(",") if element.strip()]
    if not elements:
        return None
    for part in elements[-1].split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == "uri":
            match = _SPIFFE_SA.search(value)
            if match:
                return match.group("ns"), match.group("sa")
    return None


def _is_loopback_peer(peer: str) -> bool:
    # grpc peers look like "ipv4:127.0.0.1:5555", "ipv6:[::1]:5555" or "unix:/path".
    if peer.startswith("unix:"):
        return True
    return _is_loopback_host(peer.partition(":")[2].rsplit(":", 1)[0].strip("[]"))


@functools.lru_cache(maxsize=1024)  # asked on every call; callers come from a few addresses
def _is_loopback_host(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AccessMode(enum.Enum):
    MESH = "mesh"
    LOCAL = "local"
    NETWORK = "network"


_calling_workload: ContextVar[str | None] = ContextVar("calling_workload", default=None)


def calling_workload() -> str | None:
    """The workload (ServiceAccount) the current RPC came from, once the access check passed."""
    return _calling_workload.get()


@dataclass(frozen=True)
class AccessPolicy:
    declaration: ServiceAccess
    mode: AccessMode
    namespace: str | None = None  # in mesh mode, callers must come from this namespace when set

    def calling_workload(self, metadata: Metadata, peer: str) -> str | None:
        if self.mode is not AccessMode.MESH:
            values = metadata_values(metadata, LOCAL_CALLER_KEY)
            if len(values) != 1:
                return None
            if self.mode is AccessMode.LOCAL and not _is_loopback_peer(peer):
                return None
            return values[0].strip() or None
        headers = metadata_values(metadata, XFCC_KEY)
        principal = principal_from_xfcc(headers[-1]) if headers else None
        if principal is None:
            return None
        namespace, service_account = principal
        if self.namespace is not None and namespace != self.namespace:
            return None
        return service_account

    def check(self, method_path: str, metadata: Metadata, peer: str) -> None:
        """Raise PERMISSION_DENIED (or UNAUTHENTICATED) unless the declaration admits this call."""
        if is_open_method(method_path):
            return
        grants = self.declaration.grants_for(method_path)
        if not grants:
            raise permission_denied(f"{method_path} is not callable")
        workload = self.calling_workload(metadata, peer)
        if any(ANY_WORKLOAD in grant.callers for grant in grants):
            _calling_workload.set(workload)
            return
        if workload is None:
            raise permission_denied("calling workload not identified")
        matching = [grant for grant in grants if workload in grant.callers]
        if not matching:
            raise permission_denied(f"{workload} may not call {method_path}")
        _calling_workload.set(workload)  # each RPC runs in its own task: this never leaks
        if all(grant.identity is IdentityRule.NONE for grant in matching):
            return
        caller = caller_from_metadata(metadata)  # malformed identity metadata: UNAUTHENTICATED
        identity_required = all(grant.identity is IdentityRule.REQUIRED for grant in matching)
        if identity_required and caller.identity_id is None:
            raise unauthenticated()
