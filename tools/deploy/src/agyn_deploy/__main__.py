"""`python -m agyn_deploy generate|charts|new-service NAME`: write the generated files; build the
charts' dependencies; write a new service (`make new-service` then locks and regenerates)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agyn_deploy import charts, generate, scaffold


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agyn-deploy", description=__doc__)
    parser.add_argument("command", choices=["generate", "charts", "new-service"])
    parser.add_argument("name", nargs="?", default="", help="new-service: the service's name")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository root")
    options = parser.parse_args(argv)
    if options.command == "generate":
        for path in generate.write(options.root):
            print(f"wrote {path}")
        return 0
    if options.command == "new-service":
        try:
            written = scaffold.write(options.root, options.name)
        except scaffold.ScaffoldError as error:
            print(f"make new-service: {error}", file=sys.stderr)
            return 2
        for path in written:
            print(f"wrote {path}")
        return 0
    for chart in charts.build_dependencies(options.root / generate.HELM):
        print(f"dependencies built: {chart}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
