"""Code hygiene: ``ruff check`` and ``ruff format --check`` over the repository are clean.

The configuration is ``[tool.ruff]`` in pyproject.toml. ruff is in requirements-test.txt, so CI
has it; where it is absent the tests skip.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def ruff_command() -> list[str] | None:
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    found = shutil.which("ruff")
    return [found] if found else None


@pytest.mark.parametrize(
    "args",
    [["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]],
    ids=["check", "format"],
)
def test_ruff(args):
    ruff = ruff_command()
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -r requirements-test.txt)")
    result = subprocess.run([*ruff, *args], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"ruff {' '.join(args)}:\n{result.stdout}{result.stderr}"
