import subprocess
import sys

from typer.testing import CliRunner

from kla_analysis import __version__
from kla_analysis.cli import app

runner = CliRunner()


def test_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for cmd in ["catalog", "predicate"]:
        assert cmd in result.output


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_predicate_command_and_error_without_traceback():
    ok = runner.invoke(app, ["predicate", "650"])
    assert ok.exit_code == 0 and "Madya" in ok.output and "51 points to Nindya" in ok.output
    bad = subprocess.run([sys.executable, "-m", "kla_analysis.cli", "predicate", "1200"],
                         capture_output=True, text=True)
    assert bad.returncode == 1
    assert "between 0 and 1000" in bad.stderr and "Traceback" not in bad.stderr


def test_every_command_accepts_data_and_reports_dir():
    for name in [c.name for c in app.registered_commands]:
        result = runner.invoke(app, [name, "--help"])
        assert "--data-dir" in result.output and "--reports-dir" in result.output, name
