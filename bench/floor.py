"""The floor of one report: a bare notebook through the report's own render path.

The floor notebook takes the report's parameters, imports the same stack (pandas,
matplotlib, seaborn, kla_analysis), draws one chart and shows it as an embedded PNG. It is
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

BODY = '''import matplotlib
import pandas as pd
{seaborn_import}from matplotlib.figure import Figure

import kla_analysis
from kla_analysis.report import plots

df = pd.DataFrame({{"klaster": ["I", "II", "III", "IV", "V"], "poin": [80, 150, 260, 170, 140]}})
fig = Figure(figsize=(plots.WIDTH_IN, 2.2), dpi=plots.DPI, layout="constrained")
ax = fig.add_subplot()
{draw}
plots.ReportFigure(fig, f"{{kla_analysis.__name__}}: one chart for year {{year}}")'''
SEABORN = 'sns.barplot(data=df, x="poin", y="klaster", ax=ax, color=plots.OKABE_ITO["blue"])'
PLAIN = 'ax.barh(df["klaster"], df["poin"], color=plots.OKABE_ITO["blue"])'


def write_floor_notebook(path: Path, seaborn: bool = True) -> Path:
    """Write the floor notebook (a parameters cell and one chart cell) to ``path``.

    ``seaborn=False`` gives a stricter floor: the same chart drawn with matplotlib alone
    (the report itself does not import seaborn)."""
    body = BODY.format(seaborn_import="import seaborn as sns\n" if seaborn else "",
                       draw=SEABORN if seaborn else PLAIN)
    params = new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]})
    nb = new_notebook(cells=[params, new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "kla-analysis", "display_name": "Python (kla-analysis)",
                                 "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
