"""The helper package is layered: each module imports only modules below it. The order is the notebooks' numbers
(`nbs/NN_<module>.ipynb`), so an upward import, and with it any import cycle, fails here."""
import ast
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def layer_order() -> dict[str, int]:
    "Module name -> layer, from the notebook that exports it."
    return {p.stem.split("_", 1)[1]: int(p.stem[:2]) for p in (ROOT / "nbs").glob("[0-9][0-9]_*.ipynb")}


def helper_imports(source: str) -> set[str]:
    "The helpers modules a module's source imports, at top level or inside functions."
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1: found |= {node.module} if node.module else {a.name for a in node.names}
            elif node.module == "helpers": found |= {a.name for a in node.names}
            elif node.module and node.module.startswith("helpers."): found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("helpers.")}
    return found


def upward_imports(sources: dict[str, str], order: dict[str, int]) -> list[str]:
    "Each import of a module at the same or a higher layer, as 'module -> imported'."
    return [f"{name} -> {target}" for name, source in sources.items() for target in sorted(helper_imports(source))
            if order.get(target, 10 ** 6) >= order[name]]


def test_the_checker_finds_upward_and_circular_imports():
    order = {"core": 0, "models": 1, "toy_models": 2}
    sources = {"core": "import os", "models": "def f():\n    from helpers.toy_models import x", "toy_models": "from .models import y"}
    assert upward_imports(sources, order) == ["models -> toy_models"]
    assert upward_imports({"core": "from . import core"}, {"core": 0}) == ["core -> core"]


def test_every_helpers_module_imports_only_lower_layers():
    order = layer_order()
    modules = {p.stem: p.read_text() for p in (ROOT / "helpers").glob("*.py") if p.stem not in ("__init__", "_modidx")}
    assert set(modules) == set(order), f"modules without a numbered notebook, or notebooks without a module: {set(modules) ^ set(order)}"
    assert sorted(order.values()) == list(range(len(order))), f"notebook numbers must be 00, 01, ... without gaps or repeats: {order}"
    assert not upward_imports(modules, order), upward_imports(modules, order)
