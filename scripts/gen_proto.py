"""Regenerate libs/api from proto/ with the pinned grpcio-tools.

Usage: gen_proto.py [OUT_DIR]   (default: libs/api/src)

Generation is reproducible: the output directory is wiped first, files are fed to
protoc in sorted order, and every package directory gets an empty __init__.py (the
top one a py.typed marker too).
"""

import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import FileDescriptor
from grpc_tools import protoc
from opentelemetry.proto.trace.v1 import trace_pb2

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"


def _descriptor_set(*files: FileDescriptor) -> bytes:
    """`files` and what they import, as protoc's --descriptor_set_in reads them."""
    found: dict[str, FileDescriptor] = {}

    def add(file: FileDescriptor) -> None:
        if file.name not in found:
            for dependency in file.dependencies:
                add(dependency)
            found[file.name] = file

    for file in files:
        add(file)
    descriptors = descriptor_pb2.FileDescriptorSet()
    for file in found.values():
        file.CopyToProto(descriptors.file.add())
    return descriptors.SerializeToString()


def generate(out_dir: Path) -> None:
    generated_root = out_dir / "agynio"
    if generated_root.exists():
        shutil.rmtree(generated_root)
    out_dir.mkdir(parents=True, exist_ok=True)
    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))
    well_known = str(resources.files("grpc_tools") / "_proto")
    # The OpenTelemetry protos our own import come from the pinned opentelemetry-proto
    # package (its descriptors, as it ships no .proto files): nothing vendored, and the code
    # generated for agynio imports that package's modules.
    imported = Path(tempfile.mkdtemp()) / "imported.pb"
    imported.write_bytes(_descriptor_set(trace_pb2.DESCRIPTOR))
    args = [
        "protoc",
        f"--proto_path={PROTO_DIR}",
        f"--proto_path={well_known}",
        f"--descriptor_set_in={imported}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *protos,
    ]
    try:
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
    finally:
        shutil.rmtree(imported.parent)
    for directory in [generated_root, *(p for p in generated_root.rglob("*") if p.is_dir())]:
        (directory / "__init__.py").touch()
    # The .pyi stubs are the package's types: PEP 561 has type checkers read them when installed.
    (generated_root / "py.typed").touch()


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "libs" / "api" / "src")
