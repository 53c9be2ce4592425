"""README.md documents the project as a user meets it: its first lines give the two commands
(`make report`, `make test`), and every `kla` command registered on the CLI appears in it
(sqlite-utils style), so a new command cannot ship undocumented."""

from __future__ import annotations

import re

import pytest
import typer.main

from kla_analysis.cli import app
from kla_analysis.config import PROJ_ROOT

README = PROJ_ROOT / "README.md"


def _commands() -> list[str]:
    """Every command name on the typer app, taken from the app itself (hidden ones too)."""
    group = typer.main.get_command(app)
    return sorted(group.commands)


def _code_text(markdown: str) -> str:
    """The README's fenced code blocks and inline code spans, joined by newlines."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", markdown, flags=re.S | re.M)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", markdown, flags=re.S | re.M)
    inline = re.findall(r"`([^`\n]+)`", prose)
    return "\n".join([*fenced, *inline])


def test_the_app_has_commands():
    """Guard: the command list really comes from the app (an empty list would pass below)."""
    names = _commands()
    assert len(names) >= 5 and {"build", "report"} <= set(names), names


@pytest.mark.parametrize("name", _commands())
def test_every_command_is_in_the_readme(name):
    code = _code_text(README.read_text(encoding="utf-8"))
    assert re.search(rf"(?<![\w-])kla {re.escape(name)}(?![\w-])", code), (
        f"README.md does not show `kla {name}` in a code block or inline code; add a line "
        f"for it to the command list (see `kla {name} --help`)")


def test_readme_opens_with_make_report_and_make_test():
    """The first code block, within the README's first lines, gives both commands."""
    text = README.read_text(encoding="utf-8")
    first = re.search(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    assert first is not None, "README.md has no code block"
    assert text[:first.start()].count("\n") < 5, (
        "README.md should open with the code block giving `make report` and `make test`")
    commands = {ln.split("#")[0].strip() for ln in first.group(1).splitlines()}
    assert {"make report", "make test"} <= commands, first.group(1)
