"""Every path the package uses, in one place (cookiecutter-data-science style).

Paths are anchored at the project root so notebooks, papermill runs (another cwd) and
cron resolve the same files. A different data folder (another city, a test fixture) is
selected with ``project_paths(data_dir=..., reports_dir=...)`` or the environment
variables ``KLA_DATA_DIR`` / ``KLA_REPORTS_DIR`` -- never by editing code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJ_ROOT = PACKAGE_DIR.parent
PACKAGE_DATA_DIR = PACKAGE_DIR / "data"
NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
DOCS_DIR = PROJ_ROOT / "docs"
DEFAULT_DATA_DIR = PROJ_ROOT / "data"
DEFAULT_REPORTS_DIR = PROJ_ROOT / "reports"

# Kernel registered by `make` (python -m ipykernel install --sys-prefix --name kla-analysis).
# The runner passes it explicitly so cron and CI never hit "No such kernel".
KERNEL_NAME = "kla-analysis"


@dataclass(frozen=True)
class ProjectPaths:
    """Resolved folders for one run: ``data_dir`` holds ``raw/``, ``interim/`` and
    ``processed/``."""

    data_dir: Path
    reports_dir: Path

    @property
    def raw(self) -> Path:
        return self.data_dir / "raw"

    @property
    def processed(self) -> Path:
        return self.data_dir / "processed"

    @property
    def interim(self) -> Path:
        """Validated tables ``kla validate`` keeps for ``kla build`` (``kla_analysis.interim``)."""
        return self.data_dir / "interim"

    @property
    def notebooks(self) -> Path:
        return NOTEBOOKS_DIR


def project_paths(data_dir: str | Path | None = None,
                  reports_dir: str | Path | None = None) -> ProjectPaths:
    """Return the folders for a run; arguments beat environment variables beat defaults."""
    data = data_dir or os.environ.get("KLA_DATA_DIR") or DEFAULT_DATA_DIR
    reports = reports_dir or os.environ.get("KLA_REPORTS_DIR") or DEFAULT_REPORTS_DIR
    return ProjectPaths(Path(data).expanduser().resolve(), Path(reports).expanduser().resolve())


def package_files() -> list[Path]:
    """Code, package data and templates of the package, sorted: what can change a result."""
    return sorted(p for p in PACKAGE_DIR.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def package_file(name: str) -> Path:
    """Path of a data file shipped inside the package (catalog, bands, rules...)."""
    return Path(str(resources.files("kla_analysis") / "data" / name))


def env_positive(name: str, cast: type, default: float | int | None, what: str):
    """A positive number from the environment variable ``name`` (unset or blank: ``default``).

    ``cast`` is ``int`` or ``float``; ``what`` says what a valid value is ("a number of
    megabytes") for the error, which names the variable and the value it got.
    """
    from .errors import KlaError  # errors imports pandas; keep config light to import

    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = cast(raw)
    except ValueError:
        raise KlaError(f"{name} must be {what}, got {raw!r}") from None
    if value <= 0:
        raise KlaError(f"{name} must be positive, got {raw!r}")
    return value
