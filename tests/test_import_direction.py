"""Imports run one way (DESIGN.md): `layers` (0) ← `zoo` without the command line (1) ← `recipes`,
`export` (2; neither imports the other) ← the command line `zoo.cli` and `benchmarks` (3), and
nothing outside the command line imports it; no cycle among modules' top-level imports. Read from
the source (AST): imports at any depth, inside functions too; nothing is imported."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("layers", "zoo", "recipes", "export", "benchmarks")
RANKS = {"layers": 0, "zoo": 1, "recipes": 2, "export": 2, "cli": 3, "benchmarks": 3}


def group(module):
    """The layer group of a project module (zoo.cli is "cli"), None for anything else."""
    if module == "zoo.cli" or module.startswith("zoo.cli."):
        return "cli"
    top = module.split(".")[0]
    return top if top in RANKS else None


def imports_of(source, module, is_package, known):
    """[(imported module, line, top_level)] of `source`, the module `module`, at any depth, each
    once; `from P import name` counts as the module P.name when that is in `known`, else as P."""
    found = []
    package = module if is_package else module.rpartition(".")[0]

    def visit(node, top):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno, top) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = ".".join(package.split(".")[: len(package.split(".")) - child.level + 1]) if child.level else ""
                base = ".".join(p for p in (base, child.module or "") if p)
                found.extend((f"{base}.{a.name}" if f"{base}.{a.name}" in known else base, child.lineno, top)
                             for a in child.names)
            visit(child, top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(source), True)
    return list(dict.fromkeys(found))


def project_graph(root=ROOT):
    """{module: [(imported project module, line, top_level)]} of every .py file under PACKAGES."""
    files = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return {module: [(name, line, top) for name, line, top in
                     imports_of(path.read_text(), module, path.name == "__init__.py", files) if group(name)]
            for module, path in files.items()}


def cycles(graph):
    """Strongly connected components (Tarjan) of the top-level import edges that form a cycle."""
    edges = {m: {name for name, _, top in imports if top and name in graph} for m, imports in graph.items()}
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def connect(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1 or v in edges[v]:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def violations(graph):
    """Every import of `graph` against the layer order, and every top-level import cycle, as lines."""
    problems = []
    for module, imports in sorted(graph.items()):
        source = group(module)
        for name, line, _ in imports:
            target = group(name)
            if name == module or target is None:
                continue
            if target == "cli" and source != "cli":
                problems.append(f"{module}:{line} imports {name}: nothing but the command line imports zoo.cli")
            elif RANKS[target] > RANKS[source] or (RANKS[source] == RANKS[target] == 2 and source != target):
                problems.append(f"{module}:{line} imports {name}: {source} (layer {RANKS[source]}) may not import "
                                f"{target} (layer {RANKS[target]})")
    problems += [f"top-level import cycle: {' <-> '.join(cycle)}" for cycle in cycles(graph)]
    return problems


def test_the_project_imports_one_way():
    graph = project_graph()
    assert {"layers", "zoo", "zoo.cli", "recipes", "export.matrix", "benchmarks.deployment"} <= set(graph)
    problems = violations(graph)
    assert not problems, "\n".join(problems)


def test_the_checker_flags_an_upward_import_a_cycle_and_the_old_cli_matrix_pair():
    known = {"zoo", "zoo.cli", "zoo.matrix", "zoo.a", "zoo.b", "layers", "layers.glimpse", "recipes", "export"}
    sources = {  # module: (source, is a package)
        "zoo.cli": ("from zoo.matrix import FORMATS\n", False),  # as zoo/cli.py and zoo/matrix.py were
        "zoo.matrix": ("def run():\n    from zoo.cli import export_record\n", False),
        "zoo.a": ("from . import b\n", False),  # a top-level cycle in one layer
        "zoo.b": ("import zoo.a\n", False),
        "layers.glimpse": ("import numpy\n\ndef f():\n    from zoo import registry\n", False),  # upward, inside a function
        "recipes": ("from export import to_tflite\n", True),  # across layer 2
        "export": ("", True),
    }
    graph = {m: [i for i in imports_of(src, m, pkg, known) if group(i[0])] for m, (src, pkg) in sources.items()}
    assert graph["zoo.a"] == [("zoo.b", 1, True)] and graph["zoo.matrix"] == [("zoo.cli", 2, False)]
    problems = violations(graph)
    assert problems == [
        "layers.glimpse:4 imports zoo: layers (layer 0) may not import zoo (layer 1)",
        "recipes:1 imports export: recipes (layer 2) may not import export (layer 2)",
        "zoo.matrix:2 imports zoo.cli: nothing but the command line imports zoo.cli",
        "top-level import cycle: zoo.a <-> zoo.b",
    ]
    # The same pair with both imports at the top level is a cycle as well as an upward import.
    graph["zoo.matrix"] = [("zoo.cli", 1, True)]
    assert "top-level import cycle: zoo.cli <-> zoo.matrix" in violations(graph)
