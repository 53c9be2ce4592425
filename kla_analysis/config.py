"""Every path the package uses, in one place (cookiecutter-data-science style).

Paths are anchored at the project root so notebooks, papermill runs (another cwd) and
cron resolve the same files. A different data folder (another kabupaten or kota, a test
fixture) is selected with ``project_paths(data_dir=..., reports_dir=...)`` or the environment
variables ``KLA_DATA_DIR`` / ``KLA_REPORTS_DIR`` -- never by editing code. Its reports (and
templates) go to ``<data-dir>/reports/`` unless a reports folder is given: only the
project's own data folder writes to the project's ``reports/``. A reports folder holds one
region's outputs: :func:`claim_reports_dir` records the region in a marker file there and
refuses another region's.
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
    """Return the folders for a run; arguments beat environment variables beat defaults.

    Without a reports folder, the project's data folder reports to the project's
    ``reports/`` and any other data folder to its own ``<data-dir>/reports/`` (a second
    region's outputs never land among the first one's)."""
    data = Path(data_dir or os.environ.get("KLA_DATA_DIR") or DEFAULT_DATA_DIR)
    data = data.expanduser().resolve()
    reports = reports_dir or os.environ.get("KLA_REPORTS_DIR") or (
        DEFAULT_REPORTS_DIR if data == DEFAULT_DATA_DIR.resolve() else data / "reports")
    return ProjectPaths(data, Path(reports).expanduser().resolve())


#: The file in a reports folder naming the region whose reports and templates it holds.
REGION_MARKER = ".kla-region"


def claim_reports_dir(reports_dir: Path, region: str, write: bool = True) -> Path:
    """Make sure ``reports_dir`` holds the outputs of ``region`` only: refuse (``KlaError``)
    when its marker file (:data:`REGION_MARKER`) names another region; with ``write``, write
    the marker naming ``region`` when the folder has none (best effort: a folder that cannot
    take it, e.g. a full disk, is left as it was). Returns the marker's path."""
    from .errors import KlaError

    reports_dir = Path(reports_dir)
    marker = reports_dir / REGION_MARKER
    name = " ".join(str(region).split())
    if marker.is_file():
        try:
            lines = marker.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            lines = []
        owner = next((ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")),
                     "")
        if owner and owner.casefold() != name.casefold():
            raise KlaError(
                f"{reports_dir} holds the reports of {owner} ({marker}); {name}'s reports and "
                "templates go to a folder of their own: give --reports-dir (or "
                "KLA_REPORTS_DIR), or leave it out to use <data-dir>/reports/")
        if owner:
            return marker
    if write:
        from .atomic import write_text

        try:
            reports_dir.mkdir(parents=True, exist_ok=True)
            write_text(marker, "# the region whose reports and templates this folder holds "
                       f"(kla)\n{name}\n")
        except OSError:
            pass  # the next run writes it; nothing of the outputs depends on it
    return marker


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
