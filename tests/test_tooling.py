"""The project's own lint and type checks (the Makefile's `lint`) hold on every run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    found = str(exe) if exe.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install '.[test]')")
    return found


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["check", "src", "tests", "bench"], id="ruff-check"),
        pytest.param(["format", "--check", "src", "tests", "bench"], id="ruff-format"),
    ],
)
def test_ruff(args: list[str]) -> None:
    done = subprocess.run(
        [_tool("ruff"), *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_on_src() -> None:
    done = subprocess.run([_tool("mypy")], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
