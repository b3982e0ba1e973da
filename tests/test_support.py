"""The suite's shared support stays shared: each fixture is defined in one place, and the
demo activity's id and the command-line runner live only in tests/support (STYLE: "shared
test support lives in tests/support/; a fixture is defined once"). Read from the source
with ast, so a copy is caught before anyone runs the tests it would shadow."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SUPPORT = TESTS / "support"
ONLY_IN_SUPPORT = ("DEMO_ID", "run_cli")


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(TESTS.rglob("*.py")):
        yield path.relative_to(TESTS.parent).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def fixtures(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """(fixture name, line) for every function decorated with pytest.fixture."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            if ast.unparse(call.func if call else decorator) not in ("pytest.fixture", "fixture"):
                continue
            named = [kw.value.value for kw in (call.keywords if call else []) if kw.arg == "name"]
            yield (named[0] if named else node.name), node.lineno


def definitions(tree: ast.Module, names: tuple[str, ...]) -> Iterator[tuple[str, int]]:
    """Where `names` are bound by an assignment, a def or a class."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name in names:
            yield node.name, node.lineno
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id in names:
                    yield target.id, node.lineno


def test_each_fixture_is_defined_in_one_place():
    parsed = dict(modules())
    places: dict[str, list[str]] = defaultdict(list)
    defined_in: dict[str, set[str]] = defaultdict(set)
    for path, tree in parsed.items():
        for name, line in fixtures(tree):
            places[name].append(f"{path}:{line}")
            defined_in[path].add(name)
    # Importing a fixture into a conftest or test module registers it there a second time.
    for path, tree in parsed.items():
        for node in tree.body:
            if isinstance(node, ast.ImportFrom):
                source = imported_path(path, node)
                for alias in node.names:
                    if alias.name in defined_in.get(source, ()):
                        places[alias.asname or alias.name].append(f"{path}:{node.lineno} (imported)")

    assert places["server"][0].startswith("tests/support/")  # the scan does see the plugin
    assert {name: where for name, where in places.items() if len(where) > 1} == {}


def imported_path(path: str, node: ast.ImportFrom) -> str:
    """The file an import in `path` reads from, as "tests/…/x.py"."""
    folder = path.split("/")[:-1]
    base = folder[: len(folder) - node.level + 1] if node.level else []
    return "/".join(base + (node.module or "").split(".")) + ".py"


def test_the_demo_id_and_run_cli_are_defined_only_in_tests_support():
    places: dict[str, list[str]] = defaultdict(list)
    for path, tree in modules():
        for name, line in definitions(tree, ONLY_IN_SUPPORT):
            places[name].append(f"{path}:{line}")

    assert set(places) == set(ONLY_IN_SUPPORT)
    assert {name: where for name, where in places.items()
            if len(where) != 1 or not where[0].startswith("tests/support/")} == {}
