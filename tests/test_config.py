import pytest

from kla_analysis.config import env_positive, project_paths
from kla_analysis.errors import KlaError
from kla_analysis.publish.runner import cell_timeout_default


def test_env_positive_default_value_and_errors(monkeypatch):
    monkeypatch.delenv("KLA_TEST_N", raising=False)
    assert env_positive("KLA_TEST_N", int, 7, "a whole number") == 7
    monkeypatch.setenv("KLA_TEST_N", "  ")
    assert env_positive("KLA_TEST_N", int, 7, "a whole number") == 7
    monkeypatch.setenv("KLA_TEST_N", "12")
    assert env_positive("KLA_TEST_N", int, 7, "a whole number") == 12
    monkeypatch.setenv("KLA_TEST_N", "1.5")
    with pytest.raises(KlaError, match=r"KLA_TEST_N must be a whole number, got '1.5'"):
        env_positive("KLA_TEST_N", int, 7, "a whole number")
    monkeypatch.setenv("KLA_TEST_N", "0")
    with pytest.raises(KlaError, match="KLA_TEST_N must be positive"):
        env_positive("KLA_TEST_N", int, 7, "a whole number")


def test_cell_timeout_from_environment(monkeypatch):
    monkeypatch.setenv("KLA_CELL_TIMEOUT", "42")
    assert cell_timeout_default() == 42
    monkeypatch.setenv("KLA_CELL_TIMEOUT", "lama")
    with pytest.raises(KlaError, match="KLA_CELL_TIMEOUT must be a whole number of seconds"):
        cell_timeout_default()


def test_paths_from_arguments_beat_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("KLA_DATA_DIR", str(tmp_path / "env"))
    assert project_paths().raw == tmp_path / "env" / "raw"
    assert project_paths(data_dir=tmp_path / "arg").processed == tmp_path / "arg" / "processed"
