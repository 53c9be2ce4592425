"""The floor of one report: a bare notebook through the report's own render path.

The floor notebook takes the report's parameters, imports exactly the modules the report
imports (``report_modules``: the report's code cells are run once in a child process and
its ``sys.modules`` is compared with a bare interpreter's; seaborn is not among them, so the
floor does not import it), draws one chart as the report draws its charts (an embedded SVG). It is executed
with :func:`kla_analysis.publish.runner.render` -- the same papermill call, kernel,
nbconvert template, offline check, atomic publish and manifest as a real report -- so the
difference between the two is what the report itself computes and writes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

PARAMETERS = '''year = 2023
city = ""
data_dir = ""
target = ""
lang = "id"'''

IMPORTS = '''import importlib

# the modules the report imports (bench/floor.py report_modules), in the order it did
for _name in {modules!r}:
    try:
        importlib.import_module(_name)
    except Exception:  # a module only importable as a side effect of another: skip
        pass'''

BODY = '''import pandas as pd
from IPython.display import HTML, display

from kla_analysis import report
from kla_analysis.report import plots

df = pd.DataFrame({{"label": ["I", "II", "III", "IV", "V"], "claimed": [90, 160, 270, 180, 150],
                    "backed": [80, 150, 260, 170, 140], "max_points": [115, 156, 150, 110, 205]}})
fig = plots.clusters_figure(df, lang)
display(HTML(str(fig.to_html())))  # one chart, drawn as the report draws its charts
print(report.__name__, year)'''

#: Run in a child: the report's code cells with display stubbed, then its new modules.
PROBE = '''
import json, sys
before = list(sys.modules)
import IPython.display
IPython.display.display = lambda *a, **k: None
base = set(sys.modules)
year, city, data_dir, target, lang = {year!r}, "", {data_dir!r}, "", "id"
cells = json.loads({cells!r})
for src in cells:
    exec(compile(src, "<report cell>", "exec"))
print("MODULES " + json.dumps([m for m in sys.modules if m not in base]))
'''


def report_modules(notebook: Path, year: int, data_dir: Path) -> list[str]:
    """Modules the report notebook's code cells import beyond a bare interpreter with
    IPython's display, in import order (run in a child process)."""
    nb = nbformat.read(notebook, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"
             and "parameters" not in c.metadata.get("tags", [])]
    code = PROBE.format(year=year, data_dir=str(data_dir), cells=json.dumps(cells))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    line = next(ln for ln in out.splitlines()[::-1] if ln.startswith("MODULES "))
    return json.loads(line[len("MODULES "):])


def write_floor_notebook(path: Path, modules: list[str] | None = None) -> Path:
    """Write the floor notebook to ``path``: a parameters cell, a cell importing
    ``modules`` (``report_modules``: what the report imports) and one chart cell (the
    report's own SVG klaster chart)."""
    body = BODY.format()
    params = new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]})
    cells = [params]
    if modules:
        cells.append(new_code_cell(IMPORTS.format(modules=list(modules))))
    nb = new_notebook(cells=[*cells, new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "kla-analysis", "display_name": "Python (kla-analysis)",
                                 "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
