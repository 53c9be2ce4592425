"""The package layout shows the pipeline, and the import graph keeps it (docs/architecture.md).

ingest -> model -> report -> publish, shared ground at the package root, only ``cli`` on
top. The graph is read with ``ast`` from the source (every ``import`` statement, those
inside functions included), so nothing has to be imported or installed to check it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "kla_analysis"
STAGES = ("ingest", "model", "report", "publish")
#: What each part may import besides itself (``root`` = modules at the package root).
ALLOWED = {
    "root": {"root"},
    "ingest": {"root"},
    "model": {"root"},
    "report": {"root", "model"},
    "publish": {"root", "model", "report"},
    "top": {"root", *STAGES},
}
TOP = {"cli", "__main__"}
LAYOUT = {
    "": {"cli", "config", "errors", "atomic", "yamlfile", "tables", "catalog", "params",
         "chars", "questions", "levels", "region", "calendar"},
    "ingest": {"guards", "readers", "cleaning", "gazetteer", "specs", "validate", "interim",
               "build", "xlsx_templates", "areas", "documents", "evidence_scan"},
    "model": {"rules", "settings", "actions", "scoring", "estimate", "calibration", "plan",
              "methodology", "bulk"},
    "report": {"sections", "html", "plots", "svg", "formatting", "i18n", "display", "explore",
               "export", "text", "distributions", "evidence_files"},
    "publish": {"runner", "offline", "batch", "index", "screenshots", "evidence_pack"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))
            if "__pycache__" not in p.parts}


def part_of(module: str) -> str:
    """``root``, one of ``STAGES``, or ``top`` (the CLI)."""
    parts = module.split(".")
    if len(parts) == 1:
        return "root"
    if parts[1] in STAGES:
        return parts[1]
    return "top" if parts[1] in TOP else "root"


def imports(module: str, path: Path, known: set[str]) -> list[tuple[str, int, bool]]:
    """``(imported module, line, inside a function)`` for every import of the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_pkg = path.name == "__init__.py"
    here = module.split(".") if is_pkg else module.split(".")[:-1]
    found: list[tuple[str, int, bool]] = []

    def resolve(base: str, names: list[str]) -> list[str]:
        # "from pkg import mod" names a module; "from mod import func" names its module
        out = [f"{base}.{n}" for n in names if f"{base}.{n}" in known]
        return out if len(out) == len(names) else [*out, base]

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            targets: list[str] = []
            if isinstance(child, ast.Import):
                targets = [a.name for a in child.names if a.name.split(".")[0] == "kla_analysis"]
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = ".".join(here[:len(here) - child.level + 1] +
                                    ([child.module] if child.module else []))
                else:
                    base = child.module or ""
                if base.split(".")[0] == "kla_analysis":
                    targets = resolve(base, [a.name for a in child.names])
            found.extend((t, child.lineno, in_function) for t in dict.fromkeys(targets)
                         if t != module)
            visit(child, nested)

    visit(tree, False)
    return found


def import_graph() -> dict[str, list[tuple[str, int, bool]]]:
    mods = modules()
    known = set(mods)
    return {m: imports(m, p, known) for m, p in mods.items()}


def test_the_tree_has_the_documented_layout():
    have = set(modules())
    for folder, names in LAYOUT.items():
        prefix = "kla_analysis" + (f".{folder}" if folder else "")
        missing = {n for n in names if f"{prefix}.{n}" not in have}
        assert not missing, f"{prefix}: missing modules {sorted(missing)}"
    root_modules = {m.split(".")[1] for m in have if m.count(".") == 1} - set(STAGES) - {"__main__"}
    assert root_modules <= LAYOUT[""], (
        f"modules at the package root outside the documented shared ground: "
        f"{sorted(root_modules - LAYOUT[''])}")


def test_every_stage_imports_only_what_it_may():
    bad = []
    for module, deps in import_graph().items():
        part = part_of(module)
        for dep, line, _ in deps:
            dep_part = part_of(dep)
            if dep_part != part and dep_part not in ALLOWED[part]:
                bad.append(f"{module} (line {line}, {part}) imports {dep} ({dep_part})")
    assert not bad, "imports across the pipeline's direction:\n" + "\n".join(bad)


def cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, []):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return out


def test_no_import_circle_anywhere_lazy_imports_included():
    graph = {m: [d for d, _, _ in deps] for m, deps in import_graph().items()}
    assert cycles(graph) == []


def reachable(graph: dict[str, list[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_no_function_level_import_dodges_a_circle():
    """A function-level import is only there to keep start-up light (the CLI, the runner),
    never because the module it names imports this one back: as a top-level import it would
    close no circle."""
    top_level = {m: [d for d, _, lazy in deps if not lazy] for m, deps in import_graph().items()}
    dodges = []
    for module, deps in import_graph().items():
        for dep, line, lazy in deps:
            if lazy and module in reachable({**top_level, module: [*top_level[module], dep]},
                                            dep):
                dodges.append(f"{module} line {line} imports {dep} inside a function")
    assert not dodges, "lazy imports that hide a circle:\n" + "\n".join(dodges)


def test_only_the_cli_imports_every_stage():
    stages_of = {}
    for module, deps in import_graph().items():
        stages_of[module] = {part_of(d) for d, _, _ in deps} & set(STAGES)
    everything = sorted(m for m, s in stages_of.items() if s == set(STAGES))
    assert everything == ["kla_analysis.cli"]


# --- the checker itself must be able to fail ------------------------------------------------

def test_the_cycle_finder_finds_a_planted_circle():
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert cycles({"a": ["b"], "b": []}) == []


def test_the_import_reader_sees_relative_lazy_and_submodule_imports(tmp_path, monkeypatch):
    pkg = tmp_path / "kla_analysis"
    (pkg / "model").mkdir(parents=True)
    (pkg / "report").mkdir()
    for f in ("__init__.py", "model/__init__.py", "report/__init__.py", "errors.py",
              "model/estimate.py"):
        (pkg / f).write_text("")
    (pkg / "report" / "sections.py").write_text(
        "from ..model import estimate\nfrom ..errors import KlaError\n"
        "def f():\n    from ..publish import runner\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", pkg)
    known = set(modules()) | {"kla_analysis.publish.runner"}
    got = imports("kla_analysis.report.sections", pkg / "report" / "sections.py", known)
    assert got == [("kla_analysis.model.estimate", 1, False), ("kla_analysis.errors", 2, False),
                   ("kla_analysis.publish.runner", 4, True)]


@pytest.mark.parametrize("module, dep, ok", [
    ("kla_analysis.ingest.validate", "kla_analysis.model.estimate", False),
    ("kla_analysis.model.plan", "kla_analysis.report.i18n", False),
    ("kla_analysis.report.sections", "kla_analysis.publish.runner", False),
    ("kla_analysis.config", "kla_analysis.ingest.guards", False),
    ("kla_analysis.publish.runner", "kla_analysis.model.estimate", True),
    ("kla_analysis.cli", "kla_analysis.ingest.build", True),
])
def test_the_direction_rule_refuses_upward_imports(module, dep, ok):
    assert (part_of(dep) == part_of(module) or part_of(dep) in ALLOWED[part_of(module)]) is ok


def test_the_notebook_surface_of_report_resolves_every_name():
    """``from kla_analysis import report`` then ``report.load_report`` etc.: every re-exported
    name exists in its module, and an unknown name is an AttributeError, not None."""
    from kla_analysis import report

    for name in report.__all__:
        assert getattr(report, name) is not None, name
    assert set(report.__all__) <= set(dir(report))
    with pytest.raises(AttributeError):
        report.no_such_function  # noqa: B018
