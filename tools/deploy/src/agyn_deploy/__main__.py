"""`python -m agyn_deploy generate|charts`: write the generated files; build the charts' dependencies."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agyn_deploy import charts, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agyn-deploy", description=__doc__)
    parser.add_argument("command", choices=["generate", "charts"])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository root")
    options = parser.parse_args(argv)
    if options.command == "generate":
        for path in generate.write(options.root):
            print(f"wrote {path}")
        return 0
    for chart in charts.build_dependencies(options.root / generate.HELM):
        print(f"dependencies built: {chart}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
