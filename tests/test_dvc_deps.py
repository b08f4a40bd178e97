"""Every stage of dvc.yaml depends on all the code it runs, so editing a file can never leave
`dvc repro` serving a stale output. The code a stage runs is found statically: the CLI
function its `cmd` dispatches to, then every `curate` module imported from there, transitively
(function-local, lazy imports included)."""

import ast
from pathlib import Path

import yaml

from tests.conftest import ROOT

PKG = ROOT / "curate"


def module_file(name: str) -> Path | None:
    """``curate.a.b`` -> its file (``curate/a/b.py`` or ``curate/a/b/__init__.py``)."""
    base = ROOT.joinpath(*name.split("."))
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.is_file():
            return p
    return None


def imported_modules(tree: ast.AST, current: str) -> set[str]:
    """Names of the curate modules an AST imports (``from curate.x import y`` counts ``curate.x``
    and ``curate.x.y`` when that is a module; relative imports are resolved)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "curate"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                pkg = current.split(".")
                is_pkg = module_file(current) is not None and module_file(current).name == "__init__.py"
                base = pkg if is_pkg else pkg[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "curate":
                continue
            out.add(mod)
            out |= {f"{mod}.{a.name}" for a in node.names if module_file(f"{mod}.{a.name}")}
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and node.value.startswith("curate.") and module_file(node.value)
              and module_file(node.value).name != "__init__.py"):  # not a logger name like "curate.generation"
            out.add(node.value)  # a module named in a string, for importlib (a lazy registry)
    # a submodule import runs its packages' __init__ too
    for m in list(out):
        parts = m.split(".")
        out |= {".".join(parts[:i]) for i in range(1, len(parts))}
    return {m for m in out if module_file(m)}


def closure(start: set[str]) -> set[Path]:
    seen, todo = set(), list(start)
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        tree = ast.parse(module_file(m).read_text(encoding="utf-8"))
        todo += imported_modules(tree, m) - seen
    return {module_file(m) for m in seen}


def cli_function(subcommand: str) -> str:
    from curate.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "stage")
    return sub.choices[subcommand].get_default("fn").__name__


def stage_code(subcommand: str) -> set[Path]:
    """Files the CLI runs for ``curate SUBCOMMAND``: cli.py, the modules its top level and the
    stage's function import, and their imports."""
    tree = ast.parse((PKG / "cli.py").read_text(encoding="utf-8"))
    name = cli_function(subcommand)
    # the stage's function, the shared helpers every stage runs (main, load_params, ...) and the
    # top-level imports; not the other stages' cmd_ functions
    body = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
            or (isinstance(n, ast.FunctionDef) and (n.name == name or not n.name.startswith("cmd_")))]
    start = imported_modules(ast.Module(body=body, type_ignores=[]), "curate.cli") - {"curate.cli"}
    return closure(start) | {PKG / "cli.py"}  # cli.py itself: only this function and its top level


def stages():
    """``(name, subcommand, deps)`` of every stage, foreach/matrix expanded."""
    doc = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    for name, st in doc["stages"].items():
        body = st.get("do", st)
        cmd = body["cmd"].split()
        assert cmd[0] == "curate", f"stage {name}: cmd does not run curate: {body['cmd']}"
        yield name, cmd[1], [d for d in body.get("deps", []) if "${" not in d or d.startswith("curate")]


def covered(path: Path, deps: list[str]) -> bool:
    rel = path.relative_to(ROOT)
    return any(rel == Path(d) or Path(d) in rel.parents for d in deps)


def test_every_stage_depends_on_all_the_code_it_runs():
    missing = {}
    for name, sub, deps in stages():
        lacking = sorted(str(p.relative_to(ROOT)) for p in stage_code(sub) if not covered(p, deps))
        if lacking:
            missing[name] = lacking
    assert not missing, f"dvc.yaml deps miss code the stage runs: {missing}"


def test_the_walk_sees_lazy_imports():
    """The walk must see a function-local import (the case dvc.yaml missed before)."""
    files = {str(p.relative_to(ROOT)) for p in stage_code("generate")}
    assert "curate/models/local_teacher.py" in files  # imported inside a function only
    assert "curate/cli.py" in files and "curate/core/errors.py" in files
