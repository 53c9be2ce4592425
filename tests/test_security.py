"""Security: data never becomes markup, formulas or code.

- Problem tables printed by the CLI show cell values as text (no rich markup, no terminal
  control sequences).
"""

from __future__ import annotations

import pandas as pd
import pytest

from kla_analysis.cli import print_problems
from kla_analysis.errors import problems_frame


@pytest.mark.parametrize("value", ["[/bold]", "[red]merah[/red]", "[link=http://x]x[/link]",
                                   "\x1b[2J\x1b[31mred", "bell\x07", "a\x9bb"])
def test_problem_values_are_printed_as_text_not_markup_or_terminal_codes(value, capsys):
    probs = problems_frame(pd.DataFrame([{
        "file": f"statistik {value}.csv", "sheet": "", "row": 7, "column": "Kelurahan",
        "rule": "unknown_kelurahan", "value": value, "hint": "closest known: Palam"}]))
    print_problems(probs)
    err = capsys.readouterr().err
    shown = value.replace("\x1b", "\\x1b").replace("\x07", "\\x07").replace("\x9b", "\\x9b")
    assert shown in err  # printed literally (markup not interpreted)
    assert not any(c in err for c in "\x1b\x07\x9b")
    assert "unknown_kelurahan" in err and "7" in err
