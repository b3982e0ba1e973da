"""`cme-credit-server serve --workers N` as a provider runs it: real processes on an empty
data folder (and on PostgreSQL when the suite runs there). The parent prepares the database
once, every worker answers with the options given on the command line, sign-in and a
completion work, and SIGTERM stops them all. Also: sign-in's password hash waits off the
event loop, so the server answers other requests meanwhile."""

from __future__ import annotations

import inspect
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from creditserver import passwords
from creditserver.cli import main
from tests.support.activities import DEMO_ID

from .conftest import bearer, client_for, sign_in
from .credit_support import completion

REPO = Path(__file__).resolve().parents[2]
STARTUP_S = 90  # two workers importing FastAPI on a busy shared machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    """Whether `pid` is a process that has not ended (a zombie has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Served:
    def __init__(self, process: subprocess.Popen, url: str, log: Path) -> None:
        self.process, self.url, self.log = process, url, log

    def access_pids(self) -> set[str]:
        """The process ids at the start of the access log's lines (creditserver/serving.py log_config)."""
        return {line.split("]", 1)[0].lstrip("[") for line in self.log.read_text().splitlines()
                if '"GET /api/v1/info' in line}


@pytest.fixture
def served(tmp_path, server_database) -> Iterator[Served]:
    """`serve --workers 2 --demo --access-ttl 1234` on an empty data folder; the database
    URL, if any, in CME_DATABASE_URL rather than on the command line."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    url = server_database()
    if url:
        env["CME_DATABASE_URL"] = url
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "creditserver", "--data-dir", str(tmp_path / "data"), "--port", str(port),
             "--workers", "2", "--demo", "--access-ttl", "1234"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    served = Served(process, f"http://127.0.0.1:{port}/api/v1", log)
    try:
        deadline = time.monotonic() + STARTUP_S
        while log.read_text().count("Application startup complete") < 2:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="counts the workers in /proc (Linux)")
def test_two_workers_start_on_an_empty_data_folder_both_answer_and_sigterm_stops_them_all(served):
    workers = {pid for pid in _children(served.process.pid)  # not multiprocessing's resource tracker
               if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()}
    assert len(workers) == 2

    # New connections are shared out between the workers by the kernel: ask until both have answered.
    def ask(_n: int) -> int:
        return httpx.get(served.url + "/info", headers={"Connection": "close"}).status_code

    with ThreadPoolExecutor(8) as pool:
        for _round in range(50):
            assert set(pool.map(ask, range(16))) == {200}
            if served.access_pids() == {str(pid) for pid in workers}:
                break
    assert served.access_pids() == {str(pid) for pid in workers}

    with httpx.Client(base_url=served.url, timeout=30) as api, httpx.Client(base_url=served.url, timeout=30) as other:
        tokens = [sign_in(api), sign_in(other)]
        assert {t["expires_in"] for t in tokens} == {1234}  # --access-ttl reached the workers
        r = api.post("/completions", json={"completions": [completion(DEMO_ID)]}, headers=bearer(tokens[0]))
        assert r.status_code == 200, r.text
        result = r.json()["results"][0]
        assert result["status"] == "accepted" and result["certificate_id"]

    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(60) == 0
    assert not any(_running(pid) for pid in workers)
    assert served.log.read_text().count("Application shutdown complete") == 2


def test_serve_refuses_a_number_of_workers_or_threads_out_of_range(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path), "--workers", "0"]) == 2
    assert "--workers: must be between 1 and 64 (got 0)" in capsys.readouterr().err
    assert main(["--data-dir", str(tmp_path), "--threads", "0"]) == 2
    assert "--threads: must be between 1 and 1000 (got 0)" in capsys.readouterr().err


def _server_functions(routes) -> Iterator:
    """The server's own route functions and the dependencies they call."""
    for route in routes:
        if isinstance(route, APIRoute):
            dependants = [route.dependant]
            while dependants:
                dependant = dependants.pop()
                if getattr(dependant.call, "__module__", "").startswith("creditserver."):
                    yield dependant.call
                dependants += dependant.dependencies
        elif hasattr(route, "original_router"):  # FastAPI's included router
            yield from _server_functions(route.original_router.routes)


def test_no_route_runs_on_the_event_loop(server):
    """Every route and dependency is a plain function, which FastAPI runs on its thread pool,
    or a plain function made one trip to that pool (creditserver/one_trip.py): a database call
    or a password hash in one never holds up the other requests."""
    functions = {f.__qualname__: f for f in _server_functions(server.app.routes)}
    assert {"sign_in", "set_password", "post_completions", "current_learner", "get_catalog"} <= set(functions)
    on_the_loop = [name for name, f in functions.items()
                   if inspect.iscoroutinefunction(f) and not getattr(f, "one_trip", False)]
    assert on_the_loop == []
    one_trip = {name for name, f in functions.items() if getattr(f, "one_trip", False)}
    assert one_trip == {"sign_in", "get_catalog", "post_completions"}
    assert not any(inspect.iscoroutinefunction(inspect.unwrap(functions[name])) for name in one_trip)


class _HeldGate:
    """Stands in for passwords._HASHING: a sign-in's hash waits here until `open` is set."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.open = threading.Event()

    def __enter__(self) -> None:
        self.reached.set()
        self.open.wait(30)

    def __exit__(self, *exc: object) -> None:
        pass


def test_the_server_answers_while_a_sign_in_waits_for_its_password_hash(server, monkeypatch):
    gate = _HeldGate()
    monkeypatch.setattr(passwords, "_HASHING", gate)
    with ThreadPoolExecutor(1) as pool, client_for(server) as api:
        signing_in = pool.submit(sign_in, client_for(server))
        assert gate.reached.wait(30)

        assert api.get("/info").status_code == 200  # the event loop is free
        assert api.get("/keys").status_code == 200  # and so is another thread of the pool
        assert not signing_in.done()

        gate.open.set()
        assert signing_in.result(30)["learner"]["username"] == "demo"


class _FirstThenRest:
    """Stands in for passwords._HASHING: the first hash waits for `first`, the others for `rest`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entered = 0
        self.first_reached, self.first = threading.Event(), threading.Event()
        self.rest_reached, self.rest = threading.Event(), threading.Event()

    def __enter__(self) -> None:
        with self._lock:
            self._entered += 1
            first = self._entered == 1
        (self.first_reached if first else self.rest_reached).set()
        (self.first if first else self.rest).wait(30)

    def __exit__(self, *exc: object) -> None:
        pass


def test_a_sign_in_is_answered_after_its_own_hash_not_after_the_others_in_the_queue(start_server, monkeypatch):
    """One thread, two sign-ins: A hashes while B waits for the thread. A's answer comes while
    B hashes. Before one_trip.py, A's answer took a second trip to the pool, behind B's whole
    sign-in: in a rush of 500, every answer came after all the hashes."""
    server = start_server(threads=1)
    gate = _FirstThenRest()
    monkeypatch.setattr(passwords, "_HASHING", gate)
    with ThreadPoolExecutor(2) as run:
        first = run.submit(sign_in, client_for(server))
        assert gate.first_reached.wait(30)
        second = run.submit(sign_in, client_for(server))
        deadline = time.monotonic() + 30
        while server.app.state.thread_pool.statistics().tasks_waiting < 1:  # B is in the queue
            assert time.monotonic() < deadline, "the second sign-in never reached the server's queue"
            time.sleep(0.01)
        gate.first.set()
        assert gate.rest_reached.wait(30)  # B has the thread now

        assert first.result(20)["learner"]["username"] == "demo"
        assert not second.done()
        gate.rest.set()
        assert second.result(30)["learner"]["username"] == "demo"
