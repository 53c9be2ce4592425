"""The benchmark generator (bench/generate.py) writes schema-valid messy raw data: a tiny
folder (2 kab/kota, 1 year) passes `kla validate` and builds every table."""

from __future__ import annotations

import sys
from pathlib import Path

from typer.testing import CliRunner

from kla_analysis.catalog import load_catalog
from kla_analysis.cli import app
from kla_analysis.config import PROJ_ROOT, project_paths
from kla_analysis.ingest.validate import validate_data

sys.path.insert(0, str(PROJ_ROOT / "bench"))
import generate  # noqa: E402  (bench/ is not a package)


def test_tiny_synthetic_folder_passes_validation(tmp_path: Path):
    info = generate.generate_into(tmp_path, "tiny", seed=3)
    assert info["cities"] == 2 and info["years"] == 1
    res = CliRunner().invoke(app, ["validate", "--data-dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "passed validation" in res.output
    tables = validate_data(project_paths(tmp_path)).tables
    assert tables["statistics"]["city"].nunique() == 2  # several kab/kota in one folder
    assert set(tables["statistics"]["area_level"]) == {"kabupaten_kota", "desa_kelurahan"}
    # almost every generated statistic survives (a few cells say "n/a" on purpose)
    assert 0.95 * info["statistic_rows_max"] <= len(tables["statistics"]) \
        <= info["statistic_rows_max"]
    assert len(tables["self_assessment"]) == 2 * len(load_catalog()) and len(tables["gazetteer"]) == info["kelurahan"]
    # the messy spellings really are there: raw kelurahan text differs from canonical names
    raw = (tmp_path / "raw" / "statistics").glob("dinkes_*.csv")
    text = "".join(p.read_bytes().decode("cp1252") for p in raw)
    assert "JUMLAH" in text and "%" in text and "Kel. " in text
