"""Each `<Pkg>Gateway` service exposes methods of its package's service with the same messages,
so the Gateway can forward a call unchanged (DESIGN §2)."""

from __future__ import annotations

import pytest
from agynio.api.agents.v1 import agents_pb2
from agynio.api.chat.v1 import chat_pb2
from agynio.api.gateway.v1 import agents_pb2 as agents_gateway
from agynio.api.gateway.v1 import chat_pb2 as chat_gateway
from agynio.api.gateway.v1 import notifications_pb2 as notifications_gateway
from agynio.api.gateway.v1 import organizations_pb2 as organizations_gateway
from agynio.api.gateway.v1 import threads_pb2 as threads_gateway
from agynio.api.gateway.v1 import users_pb2 as users_gateway
from agynio.api.notifications.v1 import notifications_pb2
from agynio.api.organizations.v1 import organizations_pb2
from agynio.api.threads.v1 import threads_pb2
from agynio.api.users.v1 import users_pb2


def signatures(service) -> dict[str, tuple[str, str, bool]]:
    return {
        method.name: (method.input_type.full_name, method.output_type.full_name, method.server_streaming)
        for method in service.methods
    }


@pytest.mark.parametrize(
    ("gateway", "backing", "aliases", "same_methods"),
    [
        (
            users_gateway.DESCRIPTOR.services_by_name["UsersGateway"],
            users_pb2.DESCRIPTOR.services_by_name["UsersService"],
            {},
            False,  # the gateway omits the internal methods
        ),
        (
            organizations_gateway.DESCRIPTOR.services_by_name["OrganizationsGateway"],
            organizations_pb2.DESCRIPTOR.services_by_name["OrganizationsService"],
            {},
            True,
        ),
        (
            threads_gateway.DESCRIPTOR.services_by_name["ThreadsGateway"],
            threads_pb2.DESCRIPTOR.services_by_name["ThreadsService"],
            {"ListThreads": "GetThreads"},  # DESIGN §2: the product's name for GetThreads
            False,
        ),
        (
            notifications_gateway.DESCRIPTOR.services_by_name["NotificationsGateway"],
            notifications_pb2.DESCRIPTOR.services_by_name["NotificationsService"],
            {},
            False,  # Publish stays internal
        ),
        (
            agents_gateway.DESCRIPTOR.services_by_name["AgentsGateway"],
            agents_pb2.DESCRIPTOR.services_by_name["AgentsService"],
            {},
            False,  # ResolveAgentIdentity stays internal
        ),
        (
            chat_gateway.DESCRIPTOR.services_by_name["ChatGateway"],
            chat_pb2.DESCRIPTOR.services_by_name["ChatService"],
            {},
            True,
        ),
    ],
)
def test_gateway_methods_are_the_backing_methods(gateway, backing, aliases, same_methods):
    exposed, served = signatures(gateway), signatures(backing)
    for name, signature in exposed.items():
        assert served[aliases.get(name, name)] == signature, name
    # Where the sheet lists one method list for both, the declaration order matches too.
    assert (list(exposed.items()) == list(served.items())) is same_methods


def test_internal_only_methods_stay_off_the_gateway():
    threads = signatures(threads_gateway.DESCRIPTOR.services_by_name["ThreadsGateway"])
    notifications = signatures(notifications_gateway.DESCRIPTOR.services_by_name["NotificationsGateway"])
    assert "Publish" not in notifications
    agents = signatures(agents_gateway.DESCRIPTOR.services_by_name["AgentsGateway"])
    served = signatures(agents_pb2.DESCRIPTOR.services_by_name["AgentsService"])
    # The sheet's 47: every AgentsService method but the tracing-only one, in the same order.
    assert list(agents) == [name for name in served if name != "ResolveAgentIdentity"]
    assert len(agents) == 47
    assert list(threads)[-2:] == ["ListThreads", "DegradeThread"]  # additions come last
