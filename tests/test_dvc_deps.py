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


def stage_code(subcommand: str) -> set[Path]:
    """Files ``curate SUBCOMMAND`` runs: its stage module (``curate.stages.<name>``) and every
    curate module imported from there. ``cli.py`` is not among them: it only parses arguments
    and dispatches (``test_cli_only_dispatches``), so editing it cannot change an output."""
    from curate.cli import COMMANDS

    return closure({f"curate.stages.{COMMANDS[subcommand][0]}"})


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
    assert "curate/core/errors.py" in files and "curate/stages/generate.py" in files


def test_cli_only_dispatches():
    """cli.py holds no stage logic: it imports no curate module but the error type, the params
    loader and the stage context, and reaches stages only through ``COMMANDS``."""
    tree = ast.parse((PKG / "cli.py").read_text(encoding="utf-8"))
    mods = imported_modules(tree, "curate.cli")
    assert mods <= {"curate", "curate.core", "curate.core.errors", "curate.core.config",
                    "curate.stages", "curate.stages.base"}, mods
    from curate.cli import COMMANDS

    for name, (module, _) in COMMANDS.items():
        assert (PKG / "stages" / f"{module}.py").is_file(), name
