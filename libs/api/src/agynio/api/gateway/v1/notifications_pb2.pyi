from agynio.api.notifications.v1 import notifications_pb2 as _notifications_pb2
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor
