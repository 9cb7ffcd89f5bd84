"""Shared fixtures: the real data folder and a switch that makes its absence fatal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vatnb.data import DATA_DIR_VARIABLE, DataUnavailableError, fetch

# CI sets VATNB_REQUIRE_DATA=1 so that a missing data folder fails instead of skipping.
REQUIRE_DATA = os.environ.get("VATNB_REQUIRE_DATA") == "1"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Return the folder of the real ValueActionLens files, or skip without it."""
    try:
        path = fetch("ratings/gpt-3.5-turbo", download=False)
    except DataUnavailableError as error:
        if REQUIRE_DATA:
            pytest.fail(f"real data required (VATNB_REQUIRE_DATA=1) but missing: {error}")
        pytest.skip(f"real data not available; set {DATA_DIR_VARIABLE}: {error}")
    return path.parent.parent
