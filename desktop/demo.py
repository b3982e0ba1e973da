"""The built-in demo: a reference credit server on loopback, signed in as the demo learner.

Its client data lives apart from the real cache (`<data dir>/demo/`), so trying the demo
never mixes with a provider's catalog.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from creditserver.runner import RunningServer, serve_in_thread
from desktop.config import Paths
from desktop.errors import CmeError
from desktop.policy import load_policy
from desktop.services import Services
from desktop.sync.credentials import ensure_usable_keyring_for_demo

log = logging.getLogger(__name__)

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"  # published in the README: the demo holds nothing private
PREFERRED_PORT = 48765  # a stable address keeps the demo cache's sync state across runs


@dataclass
class Demo:
    services: Services
    server: RunningServer

    def stop(self) -> None:
        self.services.close()
        self.server.stop()


def start_demo(data_dir: Path) -> Demo:
    root = data_dir / "demo"
    try:
        server = serve_in_thread(root / "server", demo=True, port=PREFERRED_PORT)
    except OSError:
        server = serve_in_thread(root / "server", demo=True, port=0)
    if ensure_usable_keyring_for_demo():
        log.info("no OS keyring: the demo keeps its token in memory")
    # The demo talks to its own loopback server: the policy's server and proxy do not apply.
    policy = load_policy().without("server_url", "proxy", "download_hours", "shared_content_dir")
    services = Services(Paths(root / "client"), server_url=server.url, policy=policy)
    try:
        services.account.sign_in(DEMO_USERNAME, DEMO_PASSWORD)
        services.syncing.sync()
    except CmeError as exc:  # the library still opens; the status bar says why
        log.warning("demo start: %s", exc)
    return Demo(services, server)
