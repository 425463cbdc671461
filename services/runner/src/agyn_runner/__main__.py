"""The runner deployable: RunnerService, the reference runner daemon (workloads as local processes)."""

from __future__ import annotations

import logging
import sys

import grpc
from agyn_common.server import Runtime, ServiceDefinition
from agyn_common.server import main as serve_main
from agynio.api.runner.v1 import runner_pb2_grpc

from agyn_runner.access import ACCESS, RUNNER
from agyn_runner.enrollment import Enrollment
from agyn_runner.events import Events
from agyn_runner.servicer import RunnerServicer
from agyn_runner.settings import RunnerSettings
from agyn_runner.workloads import Workloads

log = logging.getLogger(__name__)


def register(server: grpc.aio.Server, runtime: Runtime[RunnerSettings]) -> None:
    settings = runtime.settings
    events = Events()
    workloads = Workloads(
        settings.runner_state_dir, settings.allowed_commands(), settings.runner_stop_timeout_seconds, events
    )
    # Calls wait for the earlier runs' workloads (`loaded`); start-up does not.
    runtime.run_in_background("load-workloads", workloads.load)
    if settings.runner_service_token is None:
        log.warning("not enrolled: RUNNER_SERVICE_TOKEN is not set, so Runners does not know this runner")
    else:
        enrollment = Enrollment(
            settings.runner_state_dir,
            settings.gateway_url,
            settings.runner_service_token.get_secret_value(),
            settings.advertised_address(),
            settings.runner_enroll_retry_seconds,
        )
        runtime.run_in_background("enrollment", enrollment.run)
    # Followed logs and event streams never end by themselves: end them when calls stop.
    runtime.on_stopping(workloads.stopping.set)
    runtime.on_stopped(workloads.close)
    runner_pb2_grpc.add_RunnerServiceServicer_to_server(RunnerServicer(workloads, events), server)


DEFINITION = ServiceDefinition(
    name="runner",
    settings_type=RunnerSettings,
    access=ACCESS,
    grpc_services=(RUNNER,),
    register=register,
    metadata=None,  # no database: workloads, logs and volumes are files in RUNNER_STATE_DIR
)


def main() -> None:
    sys.exit(serve_main(DEFINITION))


if __name__ == "__main__":
    main()
