"""The package's import layers (docs/design.md, section 1): no cycle among minigan's top-level modules, every
import counted (those inside functions too), and data/ importing nothing of minigan's but the registry."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "minigan"


def top_level(dotted: str) -> str | None:
    """"minigan.layers.base" -> "layers"; None for a name outside the package or the package itself."""
    parts = dotted.split(".")
    return parts[1] if parts[0] == "minigan" and len(parts) > 1 else None


def imported(path: Path) -> set:
    """The dotted names of minigan that the file imports (``from .x import y`` gives x and x.y)."""
    package = ".".join(path.relative_to(PACKAGE.parent).parts[:-1])  # the package the file is in
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = (package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else [])
            source = ".".join(base + ([node.module] if node.module else []))
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def graph() -> dict:
    """top-level module -> the other top-level modules it imports (submodules of a package count as it)."""
    units = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").is_file()) and p.name != "__init__.py"}
    edges: dict = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        unit = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        if unit == "__init__":
            continue
        for name in imported(path):
            target = top_level(name)
            if target in units and target != unit:
                edges.setdefault(unit, set()).add(target)
    return edges


def cycle(edges: dict):
    """One cycle of the graph as a list of nodes, or None (depth-first search with colours)."""
    state, path = {}, []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_finder_sees_a_cycle_when_there_is_one():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}}) is None


def test_the_package_has_no_import_cycle():
    edges = graph()
    assert "loop" in edges and "families" in edges["loop"]  # the graph is read (not empty)
    assert cycle(edges) is None, " -> ".join(cycle(edges))


def test_data_imports_nothing_of_minigan_but_the_registry():
    assert graph().get("data", set()) <= {"registry"}


def test_the_compute_core_imports_no_family_loop_or_command():
    edges = graph()
    above = {"options", "families", "loop", "run", "runfolder", "datasource", "commands", "cli", "evaluate"}
    for core in ("backend", "layers", "losses", "optim", "gradcheck", "penalties", "augment", "updater", "train",
                 "vae", "pix2pix", "inpaint", "models", "distributed", "storage", "data", "metrics"):
        assert not edges.get(core, set()) & above, (core, edges.get(core, set()) & above)
