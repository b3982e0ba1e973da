"""The built-in demo: a reference credit server on loopback, signed in as the demo learner.

Its client data lives apart from the real cache (`<data dir>/demo/`), so trying the demo
never mixes with a provider's catalog.

`DemoLauncher` is what the window runs on a worker after its first paint: start the
server, open the demo's services, sign in, reporting each stage as it begins so the window
can show it; the window's own first sync follows. Importing this module is cheap (the
services load in `start_demo`), so the app can hold a launcher from its first moment. `stop()` at exit ends what it started
without holding the exit: the server is told to stop and given a short while, the thread
is a daemon.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.errors import CmeError
from desktop.paths import Paths
from desktop.policy import load_policy

if TYPE_CHECKING:
    from creditserver.runner import RunningServer
    from desktop.services import Services

log = logging.getLogger(__name__)

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"  # published in the README: the demo holds nothing private
PREFERRED_PORT = 48765  # a stable address keeps the demo cache's sync state across runs
SERVER_STOP_S = 0.5  # at exit: enough for uvicorn's loop to notice; the daemon thread goes with the process

STARTING_SERVER = "Starting the demo server…"
OPENING_CACHE = "Opening the demo's local cache…"
SIGNING_IN = "Signing in as the demo learner…"


def demo_client_dir(data_dir: Path) -> Path:
    """Where the demo's client cache lives under `data_dir` (its first paint reads it)."""
    return data_dir / "demo" / "client"


@dataclass
class Demo:
    services: Services
    server: RunningServer  # its services are the window's to close; the launcher stops the server


def start_demo(data_dir: Path, progress: Callable[[str], None] | None = None) -> Demo:
    """Start the demo server, open its services and sign in. `progress(text)` is told each
    stage as it begins (from this thread). A failed sign-in is logged, not raised: the
    library still opens and the status bar says why."""
    # start-up speed: SQLAlchemy, httpx and keyring load here, on the worker, after the first paint
    from desktop.services import Services
    from creditserver.runner import serve_in_thread  # start-up speed: as above (FastAPI, uvicorn)
    from desktop.sync.credentials import ensure_usable_keyring_for_demo  # start-up speed: as above

    report = progress or (lambda _text: None)
    root = data_dir / "demo"
    report(STARTING_SERVER)
    try:
        server = serve_in_thread(root / "server", demo=True, port=PREFERRED_PORT)
    except OSError:
        server = serve_in_thread(root / "server", demo=True, port=0)
    if ensure_usable_keyring_for_demo():
        log.info("no OS keyring: the demo keeps its token in memory")
    report(OPENING_CACHE)
    # The demo talks to its own loopback server: the policy's server and proxy do not apply.
    policy = load_policy().without("server_url", "proxy", "download_hours", "shared_content_dir")
    services = Services(Paths(demo_client_dir(data_dir)), server_url=server.url, policy=policy)
    report(SIGNING_IN)
    try:
        services.account.sign_in(DEMO_USERNAME, DEMO_PASSWORD)
    except CmeError as exc:
        log.warning("demo start: %s", exc)
    return Demo(services, server)


class DemoLauncher:
    """Starts the demo when called (on a worker); `stop()` ends every demo it started.

    Called as `launcher(progress)` it returns the demo's signed-in Services, which the
    window owns and closes; the server stays this launcher's.
    """

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self._started: list[Demo] = []
        self._lock = threading.Lock()

    def __call__(self, progress: Callable[[str], None] | None = None) -> Services:
        demo = start_demo(self.data_dir, progress)
        with self._lock:
            self._started.append(demo)
        return demo.services

    def stop(self) -> None:
        with self._lock:
            started, self._started = self._started, []
        for demo in started:
            demo.server.stop(SERVER_STOP_S)
