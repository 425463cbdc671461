"""`python -m agyn_local up`: run the whole platform on this machine until Ctrl-C or SIGTERM.
`python -m agyn_local issue-token --username <name>`: an API token for an account on it.
`python -m agyn_local run-workload --organization-id <id> -- <argv...>`: a workload on its runner.
`python -m agyn_local agent-credential --agent-id <id>`: an agent workload's credential (for Tracing)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import grpc

from agyn_local.platform import (
    LocalPlatform,
    Options,
    StartupFailed,
    Stopped,
    exclusive,
    read_endpoints,
    run_service_command,
)
from agyn_local.services import ADMIN_SERVICE, SERVICES
from agyn_local.workloads import agent_credential, print_started


def parse_command(argv: Sequence[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="agyn-local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up_command = commands.add_parser("up", help="run the platform until Ctrl-C")
    # Its own --help is agyn-users', after the platform's environment is in place.
    issue_token = commands.add_parser(
        "issue-token",
        add_help=False,
        help="an API token for an account on the running platform: `agyn-users issue-token` "
        "with the environment `up` gives Users (try `issue-token --help`)",
    )
    run_workload = commands.add_parser(
        "run-workload",
        help="start a process on the local runner and record it in Runners, as the agents "
        "orchestrator would: its workload id (follow its logs through the Gateway)",
    )
    run_workload.add_argument("--organization-id", required=True, help="the organization it runs for")
    run_workload.add_argument("argv", nargs="+", help="the command, after --")
    credential = commands.add_parser(
        "agent-credential",
        help="a credential for a new workload of an agent, as the agents orchestrator gets one: "
        "its workload id and the credential its OTLP exporter sends to Tracing",
    )
    credential.add_argument("--agent-id", required=True, help="the agent (its id in Agents)")
    for command in (up_command, issue_token, run_workload, credential):
        command.add_argument(
            "--dir",
            type=Path,
            default=Path(os.environ.get("AGYN_LOCAL_DIR", ".agyn/local")),
            help="state directory (default: $AGYN_LOCAL_DIR or .agyn/local)",
        )
    up_command.add_argument("--nats-port", type=int, default=4222)
    up_command.add_argument(
        "--s3-port", type=int, default=8333, help="port of the S3 store; SeaweedFS takes the next seven too"
    )
    up_command.add_argument(
        "--base-port",
        type=int,
        default=50051,
        help="port of the first service, the next ones follow; 0: any free",
    )
    if argv is None:
        argv = sys.argv[1:]
    if "run-workload" in argv:  # what follows `--` is the workload's command, not ours
        return parser.parse_args(argv), []
    options, rest = parser.parse_known_args(argv)
    if rest and options.command != "issue-token":  # only issue-token passes arguments on
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return options, rest


def up(options: Options) -> int:
    platform = LocalPlatform(options)

    def request_stop(signum: int, frame: FrameType | None) -> None:
        platform.stop_requested = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request_stop)
    try:
        with exclusive(options.state_dir):
            try:
                platform.start()
                print(platform.summary(), flush=True)
                died = platform.wait_for_exit()
                if died is not None:
                    print(
                        f"agyn-local: {died.service.name} exited with code {died.process.returncode}; "
                        f"see {died.log_path}",
                        file=sys.stderr,
                    )
                    return 1
                print("Stopping…", flush=True)
                return 0
            except Stopped:
                return 0
            finally:
                platform.stop()
    except StartupFailed as failure:
        print(f"agyn-local: {failure}", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    options, rest = parse_command(argv)
    state_dir = options.dir.resolve()
    if options.command == "run-workload":
        try:
            endpoints = read_endpoints(state_dir)
            runner_id = (state_dir / "runner-id").read_text().strip()
            print_started(endpoints, runner_id, options.organization_id, options.argv)
        except (StartupFailed, OSError, RuntimeError, grpc.RpcError) as failure:
            print(f"agyn-local: {failure}", file=sys.stderr)
            return 1
        return 0
    if options.command == "agent-credential":
        try:
            print(json.dumps(agent_credential(read_endpoints(state_dir), options.agent_id)))
        except (StartupFailed, grpc.RpcError) as failure:
            print(f"agyn-local: {failure}", file=sys.stderr)
            return 1
        return 0
    if options.command == "issue-token":
        (users,) = (service for service in SERVICES if service.name == ADMIN_SERVICE)
        try:
            return run_service_command(state_dir, users, ["issue-token", *rest])
        except StartupFailed as failure:
            print(f"agyn-local: {failure}", file=sys.stderr)
            return 1
    return up(
        Options(
            state_dir=state_dir,
            nats_port=options.nats_port,
            base_port=options.base_port,
            s3_port=options.s3_port,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
