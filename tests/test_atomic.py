import os

import pytest

from kla_analysis.atomic import FILE_MODE, atomic_path, clear_stale_temp, write_text


def test_write_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    write_text(target, "one")
    write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    assert os.stat(target).st_mode & 0o777 == FILE_MODE


def test_failure_keeps_previous_file(tmp_path):
    target = tmp_path / "out.txt"
    write_text(target, "previous")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash while writing")
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_clear_stale_temp(tmp_path):
    (tmp_path / ".tmp-out.txt.abc").write_text("left by a killed run")
    (tmp_path / "keep.txt").write_text("x")
    removed = clear_stale_temp(tmp_path)
    assert [p.name for p in removed] == [".tmp-out.txt.abc"]
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
