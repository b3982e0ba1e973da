"""Keep PySide6 from holding the source text of every module the app imports.

PySide6 installs an import hook (its `__feature__` support, for the opt-in snake_case and
true_property modes) that asks, for every module imported after Qt, whether its source
mentions "PySide6" — with `inspect.getsource`, which reads the file into `linecache` and
leaves it there. The app imports SQLAlchemy, pydantic, httpx and its own pages after Qt,
so that cache grew to ~31 MB of source lines while playing (tests/bench/bench_rss.py,
tracemalloc by package), a sixth of the process.

`install()` answers the same question from the file's bytes, read and dropped, so nothing
is cached; it then drops what was cached before. The hook's function is PySide6's private
name: if a PySide6 release renames it, this does nothing and PySide6 behaves as before.
We use no `__feature__` mode, so the answer only has to be as right as PySide6's own.
"""

from __future__ import annotations

import linecache
import sys

import PySide6.QtCore  # noqa: F401 - the hook exists once QtCore is imported

_FEATURE_MODULES = ("shibokensupport.feature", "PySide6.support.feature")


def _uses_pyside_from_bytes(module, *, fallback) -> bool:
    path = getattr(module, "__file__", None)
    if not isinstance(path, str) or not path.endswith(".py"):
        return fallback(module)
    try:
        with open(path, "rb") as fh:
            return b"PySide6" in fh.read()
    except OSError:
        return fallback(module)


def install() -> None:
    """Swap in the non-caching check (once) and empty the source cache."""
    for name in _FEATURE_MODULES:
        feature = sys.modules.get(name)
        original = getattr(feature, "_mod_uses_pyside", None)
        if original is None or getattr(original, "cme_no_cache", False):
            continue

        def check(module, _original=original) -> bool:
            return _uses_pyside_from_bytes(module, fallback=_original)

        check.cme_no_cache = True
        feature._mod_uses_pyside = check
    linecache.clearcache()


install()
