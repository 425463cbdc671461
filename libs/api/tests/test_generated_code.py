"""The committed stubs in libs/api are exactly what `make proto` generates from proto/."""

from __future__ import annotations

import filecmp
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "libs" / "api" / "src" / "agynio"


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_proto", ROOT / "scripts" / "gen_proto.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _files(root: Path) -> set[str]:
    return {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_committed_stubs_match_a_fresh_generation(tmp_path):
    _load_generator().generate(tmp_path)
    fresh = tmp_path / "agynio"
    assert _files(fresh) == _files(COMMITTED), "run `make proto` and commit the result"
    differing = [
        name
        for name in sorted(_files(fresh))
        if not filecmp.cmp(fresh / name, COMMITTED / name, shallow=False)
    ]
    assert differing == [], f"stale generated files (run `make proto`): {differing}"
