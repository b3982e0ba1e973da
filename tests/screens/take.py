"""`make screenshots`: a PNG of every main screen, light and dark, at 1024×700 and at 2×
scaling, so anyone can look at the app without running it (and a change that breaks a
screen shows).

    xvfb-run -a -s "-screen 0 2048x1400x24" python -m tests.screens.take build/screenshots

Writes `<out>/light/`, `<out>/dark/` (1024×700 logical pixels) and `<out>/light-2x/`
(QT_SCALE_FACTOR=2 on a 2048×1400 screen: the same 1024×700 logical window). Each set
runs in its own process (the scale factor must be set before Qt starts) on the built-in
demo: a real credit server on loopback, the demo learner signed in, the demo video
downloaded and its disclosures acknowledged, so the activity's tabs show content.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIZE = (1024, 700)
SETS = {"light": ("light", 1), "dark": ("dark", 1), "light-2x": ("light", 2)}


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else ROOT / "build" / "screenshots")
    if len(argv) > 3 and argv[2] == "--set":
        return take_set(out, argv[3])
    if not os.environ.get("DISPLAY") and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        print("take.py: needs an X server (run it under xvfb-run, or `make screenshots`)", file=sys.stderr)
        return 2
    failed = 0
    for name, (_theme, scale) in SETS.items():
        env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_SCALE_FACTOR": str(scale)}
        done = subprocess.run([sys.executable, "-m", "tests.screens.take", str(out), "--set", name], cwd=ROOT,
                              env=env, timeout=300)
        failed += done.returncode != 0
    print(f"screenshots in {out}")
    return 1 if failed else 0


def take_set(out: Path, name: str) -> int:
    # Qt and the app load here, in the child that owns this set (see the module docstring).
    from tests.screens.screens import ScreenTaker

    theme, _scale = SETS[name]
    with tempfile.TemporaryDirectory() as tmp:
        taker = ScreenTaker(Path(tmp), theme, SIZE)
        try:
            written = taker.take_all(out / name)
        finally:
            taker.close()
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
