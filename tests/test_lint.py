"""The code base stays ruff-clean (configuration in pyproject.toml), notebooks included."""

import subprocess
import sys

from kla_analysis.config import PROJ_ROOT


def test_ruff_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--quiet", "."],
                            cwd=PROJ_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
