from agynio.api.runner.v1 import runner_pb2 as _runner_pb2
from agynio.api.runners.v1 import runners_pb2 as _runners_pb2
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor
