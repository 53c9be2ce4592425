"""kla build: writes every processed table atomically, byte-identical on rebuild, nothing on
failure, and never touches raw/ (checked by hashing)."""

import pytest
from fixtures.pipeline.helpers import BUNDLED, data_dir, tree_hash, write_text
from typer.testing import CliRunner

from kla_analysis.cli import app
from kla_analysis.config import project_paths
from kla_analysis.errors import InputProblems
from kla_analysis.ingest.build import build, built_files
from kla_analysis.ingest.validate import COLUMNS, PROVENANCE
from kla_analysis.tables import TABLES, load_processed

runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The bundled raw folder (symlinked, so it is the real files) with a tmp processed/."""
    d = tmp_path_factory.mktemp("bundled")
    (d / "raw").symlink_to(BUNDLED, target_is_directory=True)
    before = tree_hash(BUNDLED)
    validate = runner.invoke(app, ["validate", "--data-dir", str(d)])
    result = runner.invoke(app, ["build", "--data-dir", str(d)])
    first = tree_hash(d / "processed")
    return d, before, validate, result, first


def test_validate_and_build_succeed_on_the_bundled_data(built):
    _, _, validate, result, _ = built
    assert validate.exit_code == 0 and "passed validation" in validate.output
    assert result.exit_code == 0, result.output


def test_raw_files_unchanged_by_validate_and_build(built):
    d, before, *_ = built
    assert before and tree_hash(BUNDLED) == before


def test_every_table_written_as_parquet_and_csv_with_contract_columns(built):
    d = built[0]
    paths = project_paths(d)
    assert {p.name for p in built_files(paths)} == {p.name for p in (d / "processed").iterdir()}
    tables = load_processed(paths)
    for name in TABLES:
        df = tables[name]
        assert list(df.columns) == [*COLUMNS[name], *PROVENANCE], name
        assert len(df) and df[["source_file", "source_row"]].notna().all().all(), name
        assert (df["source_file"].map(lambda f: (BUNDLED / f).is_file())).all(), name


def test_rebuild_is_byte_identical(built):
    d, _, _, _, first = built
    build(project_paths(d))
    assert tree_hash(d / "processed") == first


def test_build_writes_nothing_when_validation_fails(tmp_path):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "statistics" / "a.csv", "Kelurahan;Tahun;APK PAUD\nPalam;2022;5\n")
    build(project_paths(d))  # a previous good build
    before = tree_hash(d / "processed")
    write_text(d / "raw" / "statistics" / "late.csv", "Kelurahan;Tahun;APK PAUD\nPalam;2023;x\n")
    raw_before = tree_hash(d / "raw")
    with pytest.raises(InputProblems):
        build(project_paths(d))
    assert tree_hash(d / "processed") == before and tree_hash(d / "raw") == raw_before
    res = runner.invoke(app, ["build", "--data-dir", str(d)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert tree_hash(d / "processed") == before


def test_build_on_an_empty_data_dir_writes_nothing(tmp_path):
    res = runner.invoke(app, ["build", "--data-dir", str(tmp_path)])
    assert res.exit_code == 1 and not (tmp_path / "processed").exists()


def test_validate_cli_prints_the_problem_table_and_exits_1(tmp_path):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "statistics" / "late.csv", "Kelurahan;Tahun;APK PAUD\nPalma;2022;5\n")
    out = tmp_path / "problems.csv"
    res = runner.invoke(app, ["validate", "--data-dir", str(d), "--problems-csv", str(out)])
    assert res.exit_code == 1
    assert "unknown_kelurahan" in res.output and "statistics/late.csv" in res.output
    assert "Traceback" not in res.output
    assert out.read_text().splitlines()[0] == "file,sheet,row,column,rule,value,hint"
    assert "statistics/late.csv,,2,Kelurahan,unknown_kelurahan,Palma" in out.read_text()


def test_validate_cli_caps_a_long_problem_table(tmp_path):
    d = data_dir(tmp_path)
    rows = "".join(f"Palam;{y};x\n" for y in range(2006, 2036)) * 10
    write_text(d / "raw" / "statistics" / "bad.csv", "Kelurahan;Tahun;APK PAUD\n" + rows)
    res = runner.invoke(app, ["validate", "--data-dir", str(d)])
    assert res.exit_code == 1 and "more problems" in res.output
