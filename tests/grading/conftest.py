"""Fixtures of the grader's own test suite (helpers live in gradingkit.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from gradingkit import Grader, available_levels  # noqa: E402


@pytest.fixture
def grader(tmp_path):
    return Grader(tmp_path)


@pytest.fixture(params=available_levels())
def level_grader(request, tmp_path):
    return Grader(tmp_path, level=request.param)
