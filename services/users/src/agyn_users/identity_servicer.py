"""IdentityService (being written)."""

from agynio.api.identity.v1 import identity_pb2_grpc


class IdentityServicer(identity_pb2_grpc.IdentityServiceServicer):
    def __init__(self, db, relations) -> None:
        self._db = db
        self._relations = relations
