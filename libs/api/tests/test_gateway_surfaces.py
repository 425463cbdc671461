"""Each `<Pkg>Gateway` service exposes methods of its package's service with the same messages,
so the Gateway can forward a call unchanged (DESIGN §2)."""

from __future__ import annotations

import pytest
from agynio.api.gateway.v1 import organizations_pb2 as organizations_gateway
from agynio.api.gateway.v1 import users_pb2 as users_gateway
from agynio.api.organizations.v1 import organizations_pb2
from agynio.api.users.v1 import users_pb2


def signatures(service) -> dict[str, tuple[str, str]]:
    return {
        method.name: (method.input_type.full_name, method.output_type.full_name) for method in service.methods
    }


@pytest.mark.parametrize(
    ("gateway", "backing", "same_methods"),
    [
        (
            users_gateway.DESCRIPTOR.services_by_name["UsersGateway"],
            users_pb2.DESCRIPTOR.services_by_name["UsersService"],
            False,  # the gateway omits the internal methods
        ),
        (
            organizations_gateway.DESCRIPTOR.services_by_name["OrganizationsGateway"],
            organizations_pb2.DESCRIPTOR.services_by_name["OrganizationsService"],
            True,
        ),
    ],
)
def test_gateway_methods_are_the_backing_methods(gateway, backing, same_methods):
    exposed, served = signatures(gateway), signatures(backing)
    assert exposed.items() <= served.items()
    # Where the sheet lists one method list for both, the declaration order matches too.
    assert (list(exposed.items()) == list(served.items())) is same_methods
