"""Run the credit server in a background thread: for tests and the desktop `--demo` mode.

    with serve_in_thread(tmp_path, demo=True) as server:
        httpx.get(server.url + "/api/v1/info")

Importing this module is cheap, because the desktop app imports it for `--demo` and its
start-up time counts: FastAPI, uvicorn, pydantic and the server's own modules are
imported inside the functions that use them.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmecore.profile import Profession

if TYPE_CHECKING:
    from fastapi import FastAPI

    from .publish import PublishResult

STARTUP_TIMEOUT_S = 15.0


class RunningServer:
    """A credit server serving on loopback in a daemon thread. Use as a context manager or call stop()."""

    def __init__(
        self, app: FastAPI, server: Any, thread: threading.Thread, url: str, data_dir: Path,
        database_url: str | None = None,
    ) -> None:
        self.app = app
        self.url = url
        self.data_dir = data_dir
        self.database_url = database_url  # None: SQLite in data_dir
        self._server = server
        self._thread = thread

    @property
    def api_url(self) -> str:
        """`url` plus `/api/v1`."""
        from cmecore.protocol import API_PREFIX  # deferred: start-up speed (module docstring)

        return self.url + API_PREFIX

    @property
    def request_log(self):
        return self.app.state.request_log

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        # The app's lifespan has closed these, unless the thread did not stop in time.
        # Certificates issued just before may still be queued for finishing: stop that (each
        # is finished at the next start or its first fetch), so no render runs on into whatever
        # the process does next (the next test or bench, perhaps with this data folder removed).
        self.app.state.finisher.close(timeout)
        if self.app.state.lrs_sender is not None:
            self.app.state.lrs_sender.close(timeout)
        self.app.state.db.dispose()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- test helpers

    def publish(self, folder: Path, *, allow_expired: bool = False, videos_as_is: bool = False) -> PublishResult:
        from .publish import publish_folder  # deferred: start-up speed (module docstring)

        return publish_folder(self.app.state.db, self.app.state.media, Path(folder), allow_expired=allow_expired,
                              videos_as_is=videos_as_is)

    def withdraw(self, activity_id: str) -> PublishResult:
        from .publish import withdraw  # deferred: start-up speed (module docstring)

        return withdraw(self.app.state.db, activity_id)

    def inject_raw_activity(self, activity_id: str, json_text: str) -> int:
        """Serve `json_text` verbatim as an activity (no validation); returns the new revision."""
        from .publish import inject_raw_activity  # deferred: start-up speed (module docstring)

        return inject_raw_activity(self.app.state.db, activity_id, json_text)

    def add_learner(
        self,
        username: str,
        password: str,
        *,
        profession: str = "physician",
        display_name: str | None = None,
        degree: str = "",
        **fields: str | None,
    ):
        """Add a learner; returns its LearnerProfile."""
        from .auth import NewLearner, add_learner  # deferred: start-up speed (module docstring)

        new = NewLearner(
            username=username,
            password=password,
            profession=Profession(profession),
            display_name=display_name or username,
            degree=degree,
            **fields,
        )
        with self.app.state.db.session() as s:
            return add_learner(s, new)

    def expire_access_tokens(self) -> int:
        from .auth import expire_access_tokens  # deferred: start-up speed (module docstring)

        with self.app.state.db.session() as s:
            return expire_access_tokens(s)

    def revoke_all_refresh_tokens(self) -> int:
        from .auth import revoke_all_refresh_tokens  # deferred: start-up speed (module docstring)

        with self.app.state.db.session() as s:
            return revoke_all_refresh_tokens(s)


def serve_in_thread(
    data_dir: Path,
    *,
    demo: bool = False,
    host: str = "127.0.0.1",
    port: int = 0,
    database_url: str | None = None,
    access_ttl_s: int = 900,
    completion_grace_days: int = 30,
    public_url: str | None = None,
    max_body_bytes: int | None = None,
    sign_in_throttle: Any = None,
    media_delivery: Any = None,
    lrs: Any = None,
    threads: int | None = None,
) -> RunningServer:
    """Start a server and return once it accepts connections (port 0: a free port).

    The database is created, or upgraded in place, first (the tests' and the desktop demo's
    own data). `max_body_bytes` and `sign_in_throttle` (a throttle.ThrottleSettings): None
    for the defaults. `media_delivery`: a media_links.MediaDelivery (None: the app sends media).
    `lrs`: an lrs.LrsConfig to report completions to. `threads`: the requests it works on at
    once (None: app.DEFAULT_THREADS)."""
    import uvicorn  # deferred: start-up speed (module docstring)

    from .app import create_app  # deferred: start-up speed (module docstring)
    from .schema import prepare_database  # deferred: start-up speed (module docstring)
    from .serving import KEEP_ALIVE_S  # deferred: start-up speed (module docstring)

    prepare_database(Path(data_dir), database_url, upgrade_existing=True)
    app = create_app(
        Path(data_dir),
        database_url=database_url,
        demo=demo,
        access_ttl_s=access_ttl_s,
        completion_grace_days=completion_grace_days,
        public_url=public_url,
        **({"max_body_bytes": max_body_bytes} if max_body_bytes is not None else {}),
        sign_in_throttle=sign_in_throttle,
        media_delivery=media_delivery,
        lrs=lrs,
        **({"threads": threads} if threads is not None else {}),
    )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose proto says TCP.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: SO_REUSEADDR would let us share a busy port
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
    else:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        if app.state.lrs_sender is not None:
            app.state.lrs_sender.close()
        app.state.db.dispose()
        raise
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, log_config=None, lifespan="on", timeout_graceful_shutdown=2,
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="cme-credit-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive():
            sock.close()
            raise RuntimeError("the credit server thread stopped during startup")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the credit server did not start in time")
        time.sleep(0.005)
    url_host = f"[{host}]" if ":" in host else host
    return RunningServer(app, server, thread, f"http://{url_host}:{bound_port}", Path(data_dir), database_url)
