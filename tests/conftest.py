"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    """The shared/ folder with the real data samples: $HFTMM_SHARED_DIR, else beside the checkout."""
    for candidate in (os.environ.get("HFTMM_SHARED_DIR"), REPO.parent / "shared"):
        if candidate and (Path(candidate) / "data").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``shared/data``; CI must have it (fail), a local checkout without it skips those tests."""
    found = shared_dir()
    if found is None:
        message = "shared/ data samples not found beside the checkout (set HFTMM_SHARED_DIR)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found / "data"
