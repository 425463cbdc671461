"""Regenerate libs/api from proto/ with the pinned grpcio-tools.

Usage: gen_proto.py [OUT_DIR]   (default: libs/api/src)

Generation is reproducible: the output directory is wiped first, files are fed to
protoc in sorted order, and every package directory gets an empty __init__.py (the
top one a py.typed marker too).
"""

import shutil
import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"


def generate(out_dir: Path) -> None:
    generated_root = out_dir / "agynio"
    if generated_root.exists():
        shutil.rmtree(generated_root)
    out_dir.mkdir(parents=True, exist_ok=True)
    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))
    well_known = str(resources.files("grpc_tools") / "_proto")
    args = [
        "protoc",
        f"--proto_path={PROTO_DIR}",
        f"--proto_path={well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for directory in [generated_root, *(p for p in generated_root.rglob("*") if p.is_dir())]:
        (directory / "__init__.py").touch()
    # The .pyi stubs are the package's types: PEP 561 has type checkers read them when installed.
    (generated_root / "py.typed").touch()


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "libs" / "api" / "src")
