"""Installed size of the Linux package (target ≤ 200 MB under /opt/cme-offline); prints,
asserts nothing. Reuses dist/'s app when its inputs did not change (packaging/build)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

TARGET_MB = 200


def main() -> None:
    if shutil.which("dpkg-deb") is None:
        print("dpkg-deb is not installed: no .deb to measure")
        return
    from tests.packaging.test_deb import load_build_module

    build = load_build_module()
    started = time.perf_counter()
    deb = build.build_deb()
    print(f"build (or reuse) took {time.perf_counter() - started:.0f} s")
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(["dpkg", "-x", str(deb), scratch], check=True)
        opt = Path(scratch) / "opt/cme-offline"
        size = build.tree_size(opt)
        print(f".deb file:           {deb.stat().st_size / 1e6:7.1f} MB  ({deb.name})")
        print(f"installed (/opt):    {size / 1e6:7.1f} MB  (target ≤ {TARGET_MB} MB: "
              f"{'ok' if size <= TARGET_MB * 1e6 else 'OVER'})")
        parts: Counter[str] = Counter()
        internal = opt / "_internal"
        for path in opt.rglob("*"):
            if path.is_file() and not path.is_symlink():
                rel = path.relative_to(internal) if path.is_relative_to(internal) else path.relative_to(opt)
                top = rel.parts[0]
                if top == "PySide6" and len(rel.parts) > 3 and rel.parts[1] == "Qt":
                    top = f"PySide6/Qt/{rel.parts[2]}"
                parts[top] += path.stat().st_size
        print("largest parts:")
        for name, n in parts.most_common(12):
            print(f"  {n / 1e6:7.1f} MB  {name}")


if __name__ == "__main__":
    main()
