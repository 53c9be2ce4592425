"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from kla_analysis.config import DEFAULT_DATA_DIR, PROJ_ROOT, ProjectPaths

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def project_root() -> Path:
    return PROJ_ROOT


@pytest.fixture(scope="session")
def bundled_data(tmp_path_factory) -> ProjectPaths:
    """Processed tables of the bundled sample, built once per test process into a tmp
    folder (``raw/`` is linked, never copied or written). Treat it as read-only."""
    from kla_analysis.ingest.build import build

    d = tmp_path_factory.mktemp("bundled-data")
    (d / "raw").symlink_to(DEFAULT_DATA_DIR / "raw", target_is_directory=True)
    paths = ProjectPaths(d, d / "reports")
    build(paths)
    return paths
