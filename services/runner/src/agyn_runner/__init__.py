"""The reference runner daemon: RunnerService with workloads as local processes."""

import os

# The daemon forks a process for every container. grpcio's fork handlers run in the child
# between fork and exec and can crash it there (a workload dead of SIGSEGV before its first
# instruction, seen under `make up`); the child only execs, so it needs none of them. Read
# when grpc is first imported, hence here, before anything imports it.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
