"""`python -m agyn_local up`: run the whole platform on this machine until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from agyn_local.platform import LocalPlatform, Options, StartupFailed, Stopped, exclusive


def parse_options(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="agyn-local", description=__doc__)
    parser.add_argument("command", choices=["up"])
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(os.environ.get("AGYN_LOCAL_DIR", ".agyn/local")),
        help="state directory (default: $AGYN_LOCAL_DIR or .agyn/local)",
    )
    parser.add_argument("--nats-port", type=int, default=4222)
    parser.add_argument(
        "--base-port",
        type=int,
        default=50051,
        help="port of the first service, the next ones follow; 0: any free",
    )
    options = parser.parse_args(argv)
    return Options(state_dir=options.dir.resolve(), nats_port=options.nats_port, base_port=options.base_port)


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
    return up(parse_options(argv))


if __name__ == "__main__":
    sys.exit(main())
