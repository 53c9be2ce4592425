"""The floor of one report: a bare notebook through the report's own render path.

The floor notebook takes the report's parameters, imports exactly what the report imports
(``kla_analysis.report`` with pandas and matplotlib; seaborn is not imported by the report,
so not by the floor either), draws one chart and shows it as an embedded PNG. It is
executed with :func:`kla_analysis.publish.runner.render` -- the same papermill call, kernel,
nbconvert template, offline check, atomic publish and manifest as a real report -- so the
difference between the two is what the report itself costs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

PARAMETERS = '''year = 2023
city = ""
data_dir = ""
target = ""
lang = "id"'''

BODY = '''import pandas as pd
from matplotlib.figure import Figure

from kla_analysis import report
from kla_analysis.report import plots

df = pd.DataFrame({{"klaster": ["I", "II", "III", "IV", "V"], "poin": [80, 150, 260, 170, 140]}})
fig = Figure(figsize=(plots.WIDTH_IN, 2.2), dpi=plots.DPI, layout="constrained")
ax = fig.add_subplot()
ax.barh(df["klaster"], df["poin"], color=plots.OKABE_ITO["blue"])
plots.ReportFigure(fig, f"{{report.__name__}}: one chart for year {{year}}")'''


def write_floor_notebook(path: Path) -> Path:
    """Write the floor notebook (a parameters cell and one chart cell) to ``path``: it imports
    what the report's first cell imports (``kla_analysis.report``, pandas, matplotlib; not
    seaborn, which the report never imports) and draws one matplotlib chart."""
    body = BODY.format()
    params = new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]})
    nb = new_notebook(cells=[params, new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "kla-analysis", "display_name": "Python (kla-analysis)",
                                 "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
