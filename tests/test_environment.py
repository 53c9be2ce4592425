"""environment.yml and pyproject.toml must name the same packages, so the two routes agree."""

import re
import tomllib

import yaml

from kla_analysis.config import PROJ_ROOT


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((PROJ_ROOT / "pyproject.toml").read_text())["project"]
    py_names = {_name(r) for r in project["dependencies"]}
    py_names |= {_name(r) for r in project["optional-dependencies"]["test"]}
    env = yaml.safe_load((PROJ_ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    # packages no conda channel has come from PyPI through the pip section
    conda |= {_name(line) for line in pip_section if not line.startswith("-")}
    assert conda == py_names, f"only in environment.yml: {conda - py_names}; only in pyproject: {py_names - conda}"
    assert any(line.startswith("-e .") for line in pip_section), "environment.yml must install the package"


def test_ci_runs_the_readme_test_command():
    readme = (PROJ_ROOT / "README.md").read_text()
    first = "\n".join(readme.splitlines()[:15])
    assert "make report" in first and "make test" in first
    assert "make test" in (PROJ_ROOT / ".ci" / "run").read_text()
