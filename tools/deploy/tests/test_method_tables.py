"""Every deployable's method table covers every method it serves (DESIGN §6)."""

from __future__ import annotations

import importlib

import pytest
from agyn_common.access import IdentityRule, ServiceAccess
from agyn_common.gateway_surface import GATEWAY_WORKLOAD, exposed_methods
from agyn_common.server import ServiceDefinition
from agyn_deploy.deployables import DEPLOYABLES
from agyn_gateway.routes import BACKENDS
from google.protobuf import descriptor_pool

SERVICES = [deployable for deployable in DEPLOYABLES if deployable.access() is not None]


def definition(module: str) -> ServiceDefinition:
    found: ServiceDefinition = importlib.import_module(f"{module}.__main__").DEFINITION
    return found


@pytest.mark.parametrize("deployable", SERVICES, ids=lambda deployable: deployable.name)
def test_every_served_method_is_in_the_table(deployable):
    served = definition(deployable.module)
    table: ServiceAccess = served.access
    for service in served.grpc_services:
        for method in descriptor_pool.Default().FindServiceByName(service).methods:
            path = f"/{service}/{method.name}"
            assert table.grants_for(path), f"{path} is served but missing from {deployable.name}'s table"
    paths = {f"/{service}/{m.name}" for service in served.grpc_services for m in _methods(service)}
    assert table.idempotent <= paths, f"idempotent methods not served: {sorted(table.idempotent - paths)}"
    assert set(table.methods) <= paths, (
        f"table names methods not served: {sorted(set(table.methods) - paths)}"
    )


WITH_DATABASE = [deployable for deployable in SERVICES if definition(deployable.module).metadata is not None]


@pytest.mark.parametrize("deployable", WITH_DATABASE, ids=lambda deployable: deployable.name)
def test_create_style_methods_honour_idempotency_keys(deployable):
    served = definition(deployable.module)
    creates = {
        f"/{service}/{method.name}"
        for service in served.grpc_services
        for method in _methods(service)
        if method.name.startswith("Create") or method.name == "SendMessage"
    }
    assert creates <= served.access.idempotent, (
        f"not idempotent: {sorted(creates - served.access.idempotent)}"
    )


@pytest.mark.parametrize("deployable", SERVICES, ids=lambda deployable: deployable.name)
def test_the_gateway_may_call_what_the_gateway_protos_expose(deployable):
    served = definition(deployable.module)
    for service in served.grpc_services:
        try:
            exposed = exposed_methods(service)
        except (ImportError, KeyError):
            continue  # an internal-only service: no gateway proto
        anonymous = {
            method for backend in BACKENDS if backend.service == service for method in backend.anonymous
        }
        for method in exposed:
            # Clients call through the Gateway with an identity, but for the methods it opens
            # to anonymous callers (EnrollRunner: the body holds the credential).
            expected = IdentityRule.NONE if method in anonymous else IdentityRule.REQUIRED
            grants = served.access.grants_for(f"/{service}/{method}")
            assert any(
                GATEWAY_WORKLOAD in grant.callers and grant.identity is expected for grant in grants
            ), f"{service}/{method} is exposed by the gateway protos but not admitted for end users"


def _methods(service: str):
    return descriptor_pool.Default().FindServiceByName(service).methods
