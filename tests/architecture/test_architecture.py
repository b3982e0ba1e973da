"""The code keeps its shape: layers, sizes, and imports where a reader expects them.

The layer contracts are import-linter's (configured in pyproject.toml, `[tool.importlinter]`);
the rest is read from the source with `ast`, so a change that breaks the shape fails here
with the file and line to look at.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("cmecore", "desktop", "creditserver")
MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 300
# Below the views: plain Python. QtCore is allowed only where libvlc meets Qt.
NO_QT_GUI = ("cmecore", "desktop/cache", "desktop/learning", "desktop/sync", "desktop/services",
             "desktop/media", "desktop/errors.py", "desktop/config.py", "desktop/policy.py",
             "desktop/diagnostics.py", "creditserver")
QT_GUI_MODULES = ("PySide6.QtWidgets", "PySide6.QtGui")


def _sources(*tops: str) -> list[Path]:
    files = []
    for top in tops:
        path = ROOT / top
        if path.is_file():
            files.append(path)
            continue
        for f in sorted(path.rglob("*.py")):
            if "migrations" not in f.relative_to(ROOT).parts:
                files.append(f)
    return files


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    return [base] + [f"{base}.{a.name}" for a in node.names]


def test_import_contracts_hold():
    """cmecore is pure, the server never imports the client, no Qt below the views, no
    SQL/HTTP in the views, no import cycles between sibling packages."""
    # In a child process: import-linter reconfigures logging, which other tests rely on.
    script = (
        "import sys; from importlinter.cli import lint_imports; "
        f"sys.exit(lint_imports(config_filename={str(ROOT / 'pyproject.toml')!r}, no_cache=True, no_logo=True))"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_no_widgets_or_gui_below_the_views():
    offenders = []
    for f in _sources(*NO_QT_GUI):
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for name in _imported_names(node):
                    if name.startswith(QT_GUI_MODULES) or name in ("PySide6.QtWidgets", "PySide6.QtGui"):
                        offenders.append(f"{_rel(f)}:{node.lineno} imports {name}")
    assert offenders == []


def test_no_module_or_class_too_long_to_read():
    too_long = []
    for f in _sources("desktop", "creditserver"):
        text = f.read_text()
        lines = text.count("\n") + (0 if text.endswith("\n") else 1)
        if lines > MAX_MODULE_LINES:
            too_long.append(f"{_rel(f)}: {lines} lines (limit {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(text, str(f))):
            if isinstance(node, ast.ClassDef):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_CLASS_LINES:
                    too_long.append(f"{_rel(f)}:{node.lineno} class {node.name}: {n} lines (limit {MAX_CLASS_LINES})")
    assert too_long == []


def _function_level_imports(tree: ast.AST):
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    yield node


def test_function_level_imports_say_why():
    """An import inside a function is there for start-up speed or an optional dependency,
    and a comment on its line (or the line above) says so."""
    unexplained = []
    for f in _sources(*PACKAGES):
        lines = f.read_text().splitlines()
        seen = set()
        for node in _function_level_imports(ast.parse("\n".join(lines), str(f))):
            if node.lineno in seen:
                continue
            seen.add(node.lineno)
            here = lines[node.lineno - 1]
            above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
            if "#" not in here and not above.startswith("#"):
                unexplained.append(f"{_rel(f)}:{node.lineno}: {here.strip()}")
    assert unexplained == []


@pytest.mark.parametrize("top", PACKAGES)
def test_every_package_has_a_docstring_saying_what_it_holds(top):
    missing = [
        _rel(init) for init in (ROOT / top).rglob("__init__.py")
        if "migrations" not in init.parts and ast.get_docstring(ast.parse(init.read_text())) is None
    ]
    assert missing == [], os.linesep.join(missing)
