"""Fixtures of the FIX engine tests: the shared FIX files and the dictionary (``redis_server`` is in
tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.fix.dictionary import DataDictionary, fix44_spec_path
from tests.conftest import shared_dir


@pytest.fixture(scope="session")
def fix_shared() -> Path:
    """``shared/fix`` (QuickFIX's acceptance scripts and FIX44.xml); CI must have it."""
    found = shared_dir()
    if found is None or not (found / "fix" / "definitions").is_dir():
        message = "shared/fix not found beside the checkout (set HFTMM_SHARED_DIR)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found / "fix"


@pytest.fixture(scope="session")
def dictionary() -> DataDictionary:
    """The packaged FIX 4.4 dictionary."""
    return DataDictionary(fix44_spec_path())
