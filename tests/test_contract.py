"""The processed tables' dtypes are the ones docs/data-contracts.md lists, everywhere:
validated in memory, written and read back from Parquet, and kept by ``kla validate``."""

from __future__ import annotations

import re

from kla_analysis.config import DOCS_DIR, ProjectPaths
from kla_analysis.ingest import interim
from kla_analysis.ingest.validate import DTYPES, validate_data
from kla_analysis.tables import load_processed


def contract_dtypes() -> dict[str, dict[str, str]]:
    """The *Column types* table of docs/data-contracts.md as ``{table: {column: dtype}}``."""
    text = (DOCS_DIR / "data-contracts.md").read_text(encoding="utf-8")
    section = text.split("## Column types", 1)[1]
    out = {}
    for table, cols in re.findall(r"^\| `(\w+)` \| (.+?) \|$", section, flags=re.M):
        out[table] = dict(re.findall(r"`(\w+)` ([\w\[\]]+)", cols))
    return out


def _dtypes(df) -> dict[str, str]:
    return {c: str(t) for c, t in df.dtypes.items()}


def test_the_documented_types_are_the_code_s():
    assert contract_dtypes() == DTYPES


def test_validated_written_and_kept_tables_have_the_documented_types(bundled_data, tmp_path):
    contract = contract_dtypes()
    result = validate_data(bundled_data)
    assert result.ok
    for name, df in result.tables.items():
        assert _dtypes(df) == contract[name], f"validated {name}"
    for name, df in load_processed(bundled_data).items():
        assert _dtypes(df) == contract[name], f"processed {name} (Parquet read back)"
    # kept in a folder of its own (the shared bundled_data is read-only)
    (tmp_path / "raw").symlink_to(bundled_data.raw, target_is_directory=True)
    kept = ProjectPaths(tmp_path, tmp_path / "reports")
    assert interim.save(kept, result.tables, interim.fingerprint(kept))
    for name, df in interim.load(kept).items():
        assert _dtypes(df) == contract[name], f"kept {name}"
