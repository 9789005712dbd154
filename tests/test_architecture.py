"""Layering and start-up: the contracts in pyproject.toml hold; `import negah` stays light."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_layers_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    r = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


def test_import_negah_loads_no_heavy_library():
    code = (
        "import sys, negah, negah.cli.main; heavy = [m for m in ('pandas', 'ibis', 'scipy', 'lightgbm', "
        "'pyspark', 'fastapi', 'lifelines', 'sklearn', 'duckdb') if m in sys.modules]; print(','.join(heavy))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "", f"imported at start-up: {r.stdout.strip()}"


def _tool(name: str) -> str:
    return shutil.which(name) or str(Path(sys.executable).parent / name)


def test_ruff_lint_passes():
    r = subprocess.run(
        [_tool("ruff"), "check", "src", "tests", "bench", "scripts"], cwd=ROOT, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_format_is_applied():
    r = subprocess.run(
        [_tool("ruff"), "format", "--check", "src", "tests", "bench", "scripts"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, "run `ruff format src tests bench scripts`:\n" + r.stdout + r.stderr


def test_no_dead_code_vulture_is_sure_of():
    """vulture at the confidence where it is reliable (unused imports, unreachable code), with the
    names it cannot see used in tests/vulture_whitelist.py; lower confidences flag every typer
    command and FastAPI route, so they are checked by hand."""
    r = subprocess.run(
        [_tool("vulture"), "src", "tests/vulture_whitelist.py", "--min-confidence", "61"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
