"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from kla_analysis.config import PROJ_ROOT

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def project_root() -> Path:
    return PROJ_ROOT
