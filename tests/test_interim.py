"""kla validate keeps what it validated for kla build (kla_analysis.ingest.interim): the processed
files are byte-identical either way, and any change of the inputs makes build validate again."""

import os
import shutil

import pytest
from fixtures.pipeline.helpers import BUNDLED, data_dir, tree_hash, write_text
from typer.testing import CliRunner

from kla_analysis.cli import app
from kla_analysis.config import project_paths
from kla_analysis.errors import InputProblems
from kla_analysis.ingest import build as build_module
from kla_analysis.ingest import interim
from kla_analysis.ingest.build import build

runner = CliRunner()
GOOD = "Kelurahan;Tahun;APK PAUD\nPalam;2022;5\n"


def _validate(d) -> None:
    res = runner.invoke(app, ["validate", "--data-dir", str(d)])
    assert res.exit_code == 0, res.output


def _no_validation(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("build validated again")
    monkeypatch.setattr(build_module, "check_data", refuse)


def test_build_after_validate_reuses_it_and_writes_the_same_bytes(tmp_path, monkeypatch):
    cold, warm = tmp_path / "cold", tmp_path / "warm"
    for d in (cold, warm):
        shutil.copytree(BUNDLED, d / "raw")
    build(project_paths(cold))  # validates
    _validate(warm)
    assert sorted(p.name for p in (warm / "interim").iterdir()) == sorted(
        [interim.FINGERPRINT, *(f"{n}.parquet" for n in build_module.TABLES)])
    with monkeypatch.context() as m:
        _no_validation(m)
        tables = build(project_paths(warm))
    assert tree_hash(warm / "processed") == tree_hash(cold / "processed")  # dates included
    assert list(tables) == list(build(project_paths(cold)))


def test_a_changed_raw_file_is_validated_again(tmp_path):
    d = data_dir(tmp_path)
    path = write_text(d / "raw" / "statistics" / "a.csv", GOOD)
    _validate(d)
    stat = path.stat()
    # same size and modification time, other content: the fingerprint hashes contents
    path.write_bytes(GOOD.replace("5\n", "x\n").encode())
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(InputProblems):
        build(project_paths(d))
    assert not (d / "processed").exists() or not any((d / "processed").iterdir())


@pytest.mark.parametrize("change", ["add", "remove", "rename"])
def test_added_removed_or_renamed_files_change_the_fingerprint(tmp_path, change):
    d = data_dir(tmp_path)
    path = write_text(d / "raw" / "statistics" / "a.csv", GOOD)
    before = interim.fingerprint(project_paths(d))
    if change == "add":
        write_text(d / "raw" / "statistics" / "b.csv", GOOD)
    elif change == "remove":
        path.unlink()
    else:
        path.rename(path.with_name("b.csv"))
    assert interim.fingerprint(project_paths(d)) != before


def test_another_package_version_or_code_is_validated_again(tmp_path, monkeypatch):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "statistics" / "a.csv", GOOD)
    paths = project_paths(d)
    _validate(d)
    assert interim.load(paths) is not None
    spec = tmp_path / "datasets.yaml"
    spec.write_text("edited: true\n")
    monkeypatch.setattr(interim, "PACKAGE_DIR", tmp_path)
    monkeypatch.setattr(interim, "package_files", lambda: [spec])
    assert interim.load(paths) is None


def test_another_file_size_limit_is_validated_again(tmp_path, monkeypatch):
    """KLA_MAX_FILE_MB decides which files validation refuses: a kept set validated under
    one limit is not used under another."""
    d = data_dir(tmp_path)
    write_text(d / "raw" / "statistics" / "a.csv", GOOD)
    monkeypatch.setenv("KLA_MAX_FILE_MB", "500")
    _validate(d)
    assert interim.load(project_paths(d)) is not None
    monkeypatch.delenv("KLA_MAX_FILE_MB")
    assert interim.load(project_paths(d)) is None


@pytest.mark.parametrize("damage", ["no_fingerprint", "bad_json", "bad_parquet", "no_table"])
def test_a_damaged_interim_folder_means_validating_again(tmp_path, damage):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "statistics" / "a.csv", GOOD)
    cold = build(project_paths(d))
    first = tree_hash(d / "processed")
    shutil.rmtree(d / "processed")
    _validate(d)
    folder = d / "interim"
    if damage == "no_fingerprint":
        (folder / interim.FINGERPRINT).unlink()
    elif damage == "bad_json":
        (folder / interim.FINGERPRINT).write_text("{not json")
    elif damage == "bad_parquet":
        (folder / "statistics.parquet").write_bytes(b"PAR1 broken")
    else:
        (folder / "evidence.parquet").unlink()
    assert interim.load(project_paths(d)) is None
    assert list(build(project_paths(d))) == list(cold)
    assert tree_hash(d / "processed") == first


def test_failed_validation_keeps_nothing_and_a_stale_kept_set_is_not_used(tmp_path):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "statistics" / "a.csv", GOOD)
    _validate(d)
    kept = tree_hash(d / "interim")
    write_text(d / "raw" / "statistics" / "late.csv", "Kelurahan;Tahun;APK PAUD\nPalam;2023;x\n")
    res = runner.invoke(app, ["validate", "--data-dir", str(d)])
    assert res.exit_code == 1 and tree_hash(d / "interim") == kept  # nothing new kept
    with pytest.raises(InputProblems):  # the kept set is for other inputs: not used
        build(project_paths(d))


def test_validate_passes_when_the_interim_folder_cannot_be_written(tmp_path):
    d = data_dir(tmp_path)
    write_text(d / "raw" / "statistics" / "a.csv", GOOD)
    (d / "interim").write_text("a file where the folder should be")
    res = runner.invoke(app, ["validate", "--data-dir", str(d)])
    assert res.exit_code == 0 and "passed validation" in res.output
    assert "could not keep the validated tables" in res.output and "Traceback" not in res.output
    build(project_paths(d))  # validates on its own
    assert (d / "processed" / "statistics.parquet").is_file()
