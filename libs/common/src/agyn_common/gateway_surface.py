"""What the Gateway exposes of each internal service, read from the gateway protos (DESIGN §2, §6).

`agynio.api.gateway.v1.<Name>Gateway` (in `gateway/v1/<pkg>.proto`) fronts
`agynio.api.<pkg>.v1.<Name>Service`; each gateway method reaches the service method of the
same name, or of the name `ALIASES` gives. The Gateway builds its routes from this, and each
service's method table admits the gateway workload on exactly these methods.
"""

from __future__ import annotations

import importlib

from google.protobuf.descriptor import ServiceDescriptor

GATEWAY_PACKAGE = "agynio.api.gateway.v1"
GATEWAY_WORKLOAD = "gateway"

# Gateway methods that answer under another name than the service's (DESIGN §2).
ALIASES: dict[str, dict[str, str]] = {
    f"{GATEWAY_PACKAGE}.ThreadsGateway": {"ListThreads": "GetThreads"},
}


def gateway_of(service: str) -> ServiceDescriptor:
    """`agynio.api.threads.v1.ThreadsService` → the descriptor of `...gateway.v1.ThreadsGateway`."""
    package, _, name = service.rpartition(".")
    module = importlib.import_module(f"{GATEWAY_PACKAGE}.{package.split('.')[-2]}_pb2")
    gateway: ServiceDescriptor = module.DESCRIPTOR.services_by_name[name.removesuffix("Service") + "Gateway"]
    return gateway


def target_method(gateway: ServiceDescriptor, method: str) -> str:
    """The service method a gateway method reaches."""
    return ALIASES.get(gateway.full_name, {}).get(method, method)


def exposed_methods(service: str) -> tuple[str, ...]:
    """The methods of `service` that its gateway reaches, in proto order."""
    gateway = gateway_of(service)
    targets = (target_method(gateway, method.name) for method in gateway.methods)
    return tuple(dict.fromkeys(targets))
