"""The import contract of docs/architecture.md, checked on the source (AST, lazy imports
included): floors import downward only, sibling domain packages never import each other, no
cycles, no underscore names across modules, heavy libraries only where models are used and
only inside functions. Fails the build when a layer is crossed."""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import ROOT

PKG = ROOT / "curate"
#: floor of each top-level part of the package (higher may import lower, never the reverse)
FLOORS = {"cli": 4, "stages": 3, "generation": 2, "repair": 2, "dedupe": 2, "detectors": 2,
          "analysis": 2, "training": 2, "models": 1, "core": 0}
DOMAIN = {k for k, v in FLOORS.items() if v == 2}
HEAVY = {"torch", "transformers", "sentence_transformers", "openai", "spacy", "llama_cpp"}
HEAVY_OK = {"models", "training", "analysis"}


def modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        out[name] = p
    return out


MODULES = modules()


def part(module: str) -> str | None:
    """``curate.dedupe.minhash`` -> ``dedupe``; ``curate.cli`` -> ``cli``; ``curate`` -> None."""
    bits = module.split(".")
    return bits[1] if len(bits) > 1 else None


def resolve(node: ast.ImportFrom, current: str) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    if MODULES[current].name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(name: str):
    """``(imported module, line, names, top_level)`` for every import in module ``name``."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    guarded = set()  # under `if TYPE_CHECKING:`
    for n in tree.body:
        if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test):
            guarded |= {id(x) for x in ast.walk(n)}
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, node.lineno, [], id(node) in top
        elif isinstance(node, ast.ImportFrom):
            mod = resolve(node, name)
            yield mod, node.lineno, [a.name for a in node.names], id(node) in top


def curate_targets(mod: str, names: list[str]) -> set[str]:
    """The curate modules an import statement loads (a ``from pkg import submodule`` counts)."""
    out = set()
    if mod.split(".")[0] != "curate":
        return out
    if mod in MODULES:
        out.add(mod)
    out |= {f"{mod}.{n}" for n in names if f"{mod}.{n}" in MODULES}
    return out


def test_floors_import_downward_and_siblings_never_import_each_other():
    bad = []
    for name in MODULES:
        src = part(name)
        if src is None:
            continue
        for mod, line, names, _ in imports(name):
            for tgt in curate_targets(mod, names):
                dst = part(tgt)
                if dst is None or dst == src:
                    continue
                if FLOORS[dst] >= FLOORS[src]:
                    kind = "sibling" if FLOORS[dst] == FLOORS[src] else "upward"
                    bad.append(f"{MODULES[name].relative_to(ROOT)}:{line}: {kind} import of {tgt}")
    assert not bad, "layers crossed:\n" + "\n".join(bad)


def test_no_import_cycles():
    graph = defaultdict(set)
    for name in MODULES:
        for mod, _, names, _ in imports(name):
            graph[name] |= curate_targets(mod, names) - {name}
    # a package's __init__ importing its own submodules is not a cycle of interest
    for name in list(graph):
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    state, cycles = {}, []

    def visit(n, stack):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                cycles.append(" -> ".join(stack[stack.index(m):] + [m]))
            elif m not in state:
                visit(m, stack)
        stack.pop()
        state[n] = 2

    for n in sorted(MODULES):
        if n not in state:
            visit(n, [])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_no_underscore_names_across_modules():
    bad = []
    for name in MODULES:
        for mod, line, names, _ in imports(name):
            if mod.split(".")[0] == "curate" and mod != name:
                bad += [f"{MODULES[name].relative_to(ROOT)}:{line}: {mod}.{n}"
                        for n in names if n.startswith("_") and not n.startswith("__")]
    assert not bad, "private names imported from another module:\n" + "\n".join(bad)


def test_heavy_libraries_only_in_model_floors_and_lazily():
    bad = []
    for name in MODULES:
        for mod, line, _, top in imports(name):
            if mod.split(".")[0] not in HEAVY:
                continue
            where = f"{MODULES[name].relative_to(ROOT)}:{line}: {mod}"
            if part(name) not in HEAVY_OK:
                bad.append(where + " (only models/, training/, analysis/ may import it)")
            elif top:
                bad.append(where + " (import it inside the function that needs it)")
    assert not bad, "heavy imports:\n" + "\n".join(bad)


@pytest.mark.parametrize("floor", sorted(FLOORS))
def test_every_floor_exists(floor):
    assert (PKG / f"{floor}.py").is_file() or (PKG / floor / "__init__.py").is_file()


def test_the_contract_can_fail():
    """The checks see a real crossing: a made-up core module importing a stage is flagged."""
    tree = ast.parse("from curate.stages.base import Context\n")
    node = tree.body[0]
    assert curate_targets(resolve(node, "curate.core.errors"), [a.name for a in node.names]) == {"curate.stages.base"}
    assert FLOORS[part("curate.stages.base")] > FLOORS[part("curate.core.errors")]
