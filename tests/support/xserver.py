"""A private X server (Xvfb) for the tests that judge real pixels or the xcb platform.

Xvfb chooses a free display number itself (`-displayfd`), so stale sockets in
/tmp/.X11-unix left by a killed server never make a test skip or collide.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def xvfb(screen: str = "1280x800x24") -> Iterator[str]:
    """Run Xvfb for the duration; yields its display (":N"). Fails the test if Xvfb is missing:
    `make test` installs it (packaging/system-packages)."""
    if shutil.which("Xvfb") is None:
        raise AssertionError("Xvfb is not installed: run packaging/system-packages test")
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", screen, "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()  # written once the server accepts clients
    try:
        if not number.isdigit():
            raise AssertionError("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
