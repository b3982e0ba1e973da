"""A real Secret Service (gnome-keyring) on a private D-Bus session bus: the store a Linux
desktop user's app keeps its tokens in, for the keyring tests and bench_rss.

gnome-keyring-daemon runs in the foreground with only its `secrets` component, its login
keyring in a folder of the caller's, unlocked with a password given on its stdin (which
also creates that keyring the first time). Absent tools skip: `available()` says why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.session_bus import session_bus, stop

DAEMON = "gnome-keyring-daemon"
READY_TIMEOUT_S = 20


def available() -> str | None:
    """None if a Secret Service can be started here, else what is missing (packaging/system-packages)."""
    missing = [tool for tool in ("dbus-daemon", DAEMON) if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not installed" if missing else None


@contextmanager
def secret_service(home: Path) -> Iterator[dict[str, str]]:
    """Run a Secret Service for the duration, its keyring under `home`; yields the
    environment a process needs to find it (the bus address)."""
    home.mkdir(parents=True, exist_ok=True)
    with session_bus() as address:
        env = {"DBUS_SESSION_BUS_ADDRESS": address}
        daemon_env = {**os.environ, **env, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
                      "XDG_RUNTIME_DIR": str(home)}
        daemon = subprocess.Popen([DAEMON, "--foreground", "--unlock", "--components=secrets"],
                                  env=daemon_env, stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            daemon.stdin.write(b"bench")  # the login keyring's password
            daemon.stdin.close()
            _wait_until_answering(env)
            yield env
        finally:
            stop(daemon)


def _wait_until_answering(env: dict[str, str]) -> None:
    """Until the daemon owns org.freedesktop.secrets on the bus."""
    # keyring's dependencies on Linux: only what starts a service needs them
    import secretstorage
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import Proxy

    deadline = time.monotonic() + READY_TIMEOUT_S
    before = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = env["DBUS_SESSION_BUS_ADDRESS"]
    try:
        while time.monotonic() < deadline:
            try:
                connection = secretstorage.dbus_init()
            except secretstorage.exceptions.SecretServiceNotAvailableException:
                connection = None
            if connection is not None:
                try:
                    # owned, not merely activatable: the bus would start another daemon
                    if Proxy(message_bus, connection).NameHasOwner("org.freedesktop.secrets")[0] == 1:
                        return
                finally:
                    connection.close()
            time.sleep(0.1)
    finally:
        if before is None:
            os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = before
    raise AssertionError(f"{DAEMON} did not answer on the bus in {READY_TIMEOUT_S} s")
