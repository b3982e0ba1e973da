"""The credit server under a deadline rush (issue 12): N learners sign in, fetch the catalog
twice, post a batch of 5 completions (every 10th batch twice at the same moment, as a client
retrying after a lost reply does), then every batch is sent again; then (unless
`fetch_certificates=False`) each learner fetches its new certificates as the desktop's sync
does right after delivery (desktop/sync/outbox.py `fetch_missing_certificates`): GET
/me/completions, then each certificate's PDF and signed credential; a PDF answered 503
`certificate-not-ready` (the server is still preparing it) is no error: the learner asks
again after its Retry-After (at most `CERTIFICATE_WAIT_S`, as the desktop's courier), until
every PDF is in hand. Shared by the load bench (tests/bench/bench_server_load.py, N = 50 …
500) and its smoke test (N = 5).

The server runs as a real process, `python -m creditserver` (= `cme-credit-server`) on
loopback, on a data folder prepared here: the learners imported with `learner import` (fast:
no password hash) and given one Argon2id hash of one password straight in the database, so
the setup costs one hash but every sign-in in the run checks the password the real way; five
copies of the demo activity, dated relative to today with a stand-in video, published with
`publish`. Nothing in the setup is timed.

The load generator is one asyncio loop: one httpx client per learner (a desktop has its own
connections) with the desktop's timeouts, all N learners at once. Each step (sign-in,
catalog, completions, re-send) starts when the step before has ended for every learner, so
each has its own wall time and rate. A learner whose sign-in failed (a timeout, a 5xx) tries
once more after the others, as a person would; the failure still counts as an error. Every learner sends `X-Forwarded-For` with an address of
its own, as the reverse proxy in front of a real server would (uvicorn trusts it from
127.0.0.1): the sign-in throttle counts failures per address, and N learners sharing one
address would be refused as a guessing attack (`one_address=True` shows that).

`check_exactly_once` reads the database with SQLAlchemy afterwards: every completion sent is
stored once with one certificate, the one every answer about it named, and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, update

from creditserver.cli import build_parser
from creditserver.cli import main as cli
from creditserver.db import Database, default_url, make_engine
from creditserver.models import Certificate, Completion, Learner
from creditserver.passwords import hash_password
from creditserver.serving import KEEP_ALIVE_S
from desktop.sync.http import DEFAULT_TIMEOUT
from tests.server.conftest import write_folder
from tests.server.credit_support import completion
from tests.support.activities import activity_doc
from tests.support.cpu_profile import Profile
from tests.support.floor_server import FLOOR_DB_URL_ENV

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "load-bench-passphrase"
BATCH = 5
ACTIVITIES = tuple(f"load-{k}" for k in range(BATCH))  # credit is once per learner and activity
DOUBLED_EVERY = 10
STARTUP_TIMEOUT_S = 60.0
KINDS = ("sign-in", "catalog", "completion POST", "re-send", "my completions", "certificate PDF", "credential")
FINISH_DEADLINE_S = 1200.0  # how long certificates are waited for after the last POST answer
CERTIFICATE_WAIT_S = 600.0  # the longest Retry-After a learner waits (desktop/sync/courier.py LONGEST_WAIT_S)
NOT_READY = "certificate-not-ready"  # the problem type's last part (cmecore.protocol.ProblemType)
OK_ANSWERS = ("accepted", "duplicate")


# ---------------------------------------------------------------- the server's data


def prepare_data(data_dir: Path, database_url: str | None, learners: int) -> None:
    """A new server database with `learners` physicians (load00000 …, password PASSWORD)
    and the activities of ACTIVITIES, through the server's own commands."""
    with tempfile.TemporaryDirectory(prefix="load-setup-") as tmp:
        _import_and_publish(Path(tmp), data_dir, database_url, learners)
    db = Database(data_dir, database_url)
    try:
        with db.session() as s:
            s.execute(update(Learner).values(password_hash=hash_password(PASSWORD)))
    finally:
        db.dispose()


def _import_and_publish(work: Path, data_dir: Path, database_url: str | None, learners: int) -> None:
    db_args = ["--data-dir", str(data_dir), *(["--database-url", database_url] if database_url else [])]
    people = work / "people.csv"
    with people.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["username", "display_name", "profession", "degree"])
        writer.writerows([username(i), f"Dr. Load {i}", "physician", "MD"] for i in range(learners))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _must(cli(["learner", "import", *db_args, "--codes", str(work / "codes.csv"), str(people)]), "learner import", out)
        for activity_id in ACTIVITIES:  # as tests/server/conftest.py credit_server: 80% of a stand-in video
            doc = activity_doc(activity_id, assets=[{"path": "talk.mp4", "title": "Talk"}])
            folder = write_folder(work / activity_id, doc, files={"talk.mp4": bytes(range(256)) * 40})
            _must(cli(["publish", *db_args, "--videos-as-is", str(folder)]), "publish", out)


def _must(code: int, what: str, out: io.StringIO) -> None:
    if code != 0:
        raise RuntimeError(f"{what} failed ({code}): {out.getvalue()[-500:]}")


def username(i: int) -> str:
    return f"load{i:05d}"


# ---------------------------------------------------------------- the server process


class WorkersUnavailable(RuntimeError):
    """`serve` has no --workers option (yet)."""


def serve_arguments(data_dir: Path, database_url: str | None, port: int, workers: int) -> list[str]:
    """The command line that serves `data_dir` with `workers` processes, as this server's
    CLI spells it (`serve …` or the top-level options); WorkersUnavailable when it cannot."""
    options = ["--data-dir", str(data_dir), "--port", str(port), *(["--database-url", database_url] if database_url else [])]
    options += ["--workers", str(workers)] if workers > 1 else []
    for form in (["serve", *options], options):
        with contextlib.redirect_stderr(io.StringIO()):
            try:
                build_parser().parse_args(form)
            except SystemExit:
                continue
        return form
    raise WorkersUnavailable(f"{workers} workers: not available (serve has no --workers)")


class ServerProcess:
    """`python -m creditserver ARGS` (= `cme-credit-server`) on a free loopback port, started
    in a session of its own so that its worker processes stop with it. `floor`: the
    floor server (tests/support/floor_server.py) on that PostgreSQL database instead."""

    def __init__(self, data_dir: Path, database_url: str | None, workers: int = 1, *, floor: bool = False) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = data_dir.parent / f"server-{port}.log"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        if floor:
            env[FLOOR_DB_URL_ENV] = database_url or ""
            command = ["uvicorn", "--factory", "tests.support.floor_server:floor_app", "--host", "127.0.0.1",
                       "--port", str(port), "--workers", str(workers), "--timeout-keep-alive", str(KEEP_ALIVE_S),
                       "--log-level", "warning"]
            ready_path = "/catalog"
        else:
            command = ["creditserver", *serve_arguments(data_dir, database_url, port, workers)]
            ready_path = "/info"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", *command], stdout=log,
                                         stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            self._wait_ready(workers, ready_path)
        except BaseException:
            self.stop()
            raise

    @property
    def api_url(self) -> str:
        return self.url + "/api/v1"

    def _wait_ready(self, workers: int, path: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}): {self.log_tail()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(self.api_url + path, timeout=2).status_code == 200:
                    if workers > 1:  # the first worker answered; give the others time to finish importing
                        time.sleep(2.0)
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer within {STARTUP_TIMEOUT_S:g} s: {self.log_tail()}")

    def log_tail(self, chars: int = 1500) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn's graceful stop; it stops its workers
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the session this class started, nothing else
                self.proc.wait(5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of `pid`, its finished children and its live descendants."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = sum(int(v) for v in fields[11:15]) / tick  # utime stime cutime cstime
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += times.get(p, 0.0)
        todo += [child for child, parent in parents.items() if parent == p]
    return total


# ---------------------------------------------------------------- the load


@dataclass
class LoadOutcome:
    learners: int
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})  # answered requests
    step_s: dict[str, float] = field(default_factory=dict)
    errors: Counter = field(default_factory=Counter)  # transport, 5xx, other status
    false_refusals: int = 0
    examples: list[str] = field(default_factory=list)
    answered: dict[str, set[str]] = field(default_factory=dict)  # completion id -> certificate ids named
    sent: set[str] = field(default_factory=set)
    delivered_first: int = 0  # items the completions step sent (doubled batches once)
    signed_in_again: int = 0  # learners whose first sign-in failed and who tried once more
    signed_in_at_second_try: int = 0
    server_cpu_s: dict[str, float] = field(default_factory=dict)  # per step: the server tree's CPU seconds
    client_cpu_s: dict[str, float] = field(default_factory=dict)  # per step: this load generator's
    profile: Counter = field(default_factory=Counter)  # py-spy samples per part during the completions step
    answered_at: float | None = None  # time.monotonic() when the re-send step ended: the last POST answer
    server_cpu_at_answer: float | None = None  # the server tree's CPU seconds then
    not_ready: int = 0  # PDF fetches answered 503 certificate-not-ready (not errors)
    learners_waited: int = 0  # learners told to wait for a PDF (503 with Retry-After) at least once
    certificates_fetched: int = 0  # PDFs in hand at the end of the certificates step
    certificates_step_s: list[float] = field(default_factory=list)  # per learner: until every PDF was in hand
    retry_after_s: list[float] = field(default_factory=list)  # the Retry-After of every 503 not ready

    def cpu_ms_per_completion(self) -> float | None:
        """The server's CPU in the completions step per completion first delivered (doubled
        batches, answered `duplicate`, cost on top: a tenth of the batches)."""
        cpu = self.server_cpu_s.get("completion POST")
        return cpu * 1000 / self.delivered_first if cpu is not None and self.delivered_first else None

    def note(self, text: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(text)

    def percentile_ms(self, kind: str, q: float) -> float | None:
        values = sorted(self.latencies[kind])
        if not values:
            return None
        if len(values) == 1:
            return values[0] * 1000
        return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1] * 1000

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class _Learner:
    def __init__(self, i: int, api_url: str, outcome: LoadOutcome, one_address: bool, tls: ssl.SSLContext) -> None:
        self.i = i
        headers = {} if one_address else {"X-Forwarded-For": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"}
        self.client = httpx.AsyncClient(base_url=api_url, timeout=DEFAULT_TIMEOUT, headers=headers, verify=tls)
        self.outcome = outcome
        self.auth: dict[str, str] | None = None
        self.batch: list[dict[str, Any]] = []

    async def request(self, kind: str, method: str, path: str, *, not_ready_ok: bool = False,
                      **kw: Any) -> httpx.Response | None:
        """The reply, or None after counting the error (transport, 5xx, any other surprise).
        `not_ready_ok`: a 503 certificate-not-ready is an answer, not an error."""
        started = time.perf_counter()
        try:
            reply = await self.client.request(method, path, **kw)
        except httpx.TransportError as exc:
            self.outcome.errors["transport"] += 1
            self.outcome.note(f"{kind}: {type(exc).__name__} {exc}")
            return None
        self.outcome.latencies[kind].append(time.perf_counter() - started)
        if not_ready_ok and reply.status_code == 503 and _problem_type(reply).endswith(NOT_READY):
            return reply
        if reply.status_code >= 500:
            self.outcome.errors["5xx"] += 1
        elif reply.status_code not in (200, 304):
            self.outcome.errors[f"{reply.status_code}"] += 1
        else:
            return reply
        self.outcome.note(f"{kind}: {reply.status_code} {reply.text[:200]}")
        return None

    async def sign_in(self, read_timeout_s: float | None = None) -> None:
        body = {"username": username(self.i), "password": PASSWORD, "device_name": f"load bench {self.i}"}
        timeout = {"timeout": httpx.Timeout(10.0, read=read_timeout_s)} if read_timeout_s else {}
        reply = await self.request("sign-in", "POST", "/auth/token", json=body, **timeout)
        if reply is not None:
            self.auth = {"Authorization": f"Bearer {reply.json()['access_token']}"}

    async def fetch_catalog(self) -> None:
        first = await self.request("catalog", "GET", "/catalog", headers=self.auth)
        etag = first.headers.get("ETag") if first is not None else None  # the desktop asks again with it
        await self.request("catalog", "GET", "/catalog", headers={**self.auth, **({"If-None-Match": etag} if etag else {})})

    async def post_completions(self, doubled: bool) -> None:
        self.batch = [completion(a) for a in ACTIVITIES]
        self.outcome.sent.update(item["id"] for item in self.batch)
        self.outcome.delivered_first += len(self.batch)
        await asyncio.gather(*(self.post("completion POST") for _ in range(2 if doubled else 1)))

    async def post(self, kind: str) -> None:
        reply = await self.request(kind, "POST", "/completions", json={"completions": self.batch}, headers=self.auth)
        if reply is not None:
            judge_answers(self.outcome, self.batch, reply.json().get("results", []))

    async def fetch_certificates(self, deadline: float) -> None:
        """As the desktop's sync after delivery (module docstring): every certificate's PDF
        and credential, no more PDFs after the first the server is still preparing (its
        Retry-After holds for all); those PDFs again after Retry-After (the
        courier's next sync, which asks for the learner's completions again), until all are
        here or `deadline` (time.monotonic()) passes."""
        started = time.perf_counter()
        pdfs: set[str] = set()
        credentials: set[str] = set()
        waited = False
        while True:
            mine = await self.request("my completions", "GET", "/me/completions", headers=self.auth)
            if mine is None:
                break
            ids = [c["certificate"]["id"] for c in mine.json()["completions"] if c.get("certificate")]
            retry_after: float | None = None
            for cert_id in (i for i in ids if i not in pdfs):
                pdf = None
                if retry_after is None:  # after the first 503 of a run the desktop asks for no more PDFs in it
                    pdf = await self.request("certificate PDF", "GET", f"/certificates/{cert_id}", headers=self.auth,
                                             not_ready_ok=True)
                if cert_id not in credentials:  # the desktop keeps the credential of a PDF not ready yet
                    if await self.request("credential", "GET", f"/certificates/{cert_id}.json") is not None:
                        credentials.add(cert_id)
                if pdf is not None and pdf.status_code == 503:
                    self.outcome.not_ready += 1
                    waited = True
                    wait = float(pdf.headers.get("Retry-After", "30"))
                    self.outcome.retry_after_s.append(wait)
                    retry_after = max(retry_after or 0.0, min(CERTIFICATE_WAIT_S, wait))
                elif pdf is not None:
                    pdfs.add(cert_id)
            if retry_after is None or time.monotonic() + retry_after > deadline:
                break
            await asyncio.sleep(retry_after)
        self.outcome.learners_waited += waited
        self.outcome.certificates_fetched += len(pdfs)
        self.outcome.certificates_step_s.append(time.perf_counter() - started)


def _problem_type(reply: httpx.Response) -> str:
    try:
        return str(reply.json().get("type", ""))
    except ValueError:
        return ""


def judge_answers(outcome: LoadOutcome, batch: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
    """Every item of a valid batch must come back accepted or duplicate with a certificate id."""
    by_index = {r.get("index"): r for r in results}
    for index, item in enumerate(batch):
        answer = by_index.get(index, {})
        if answer.get("status") in OK_ANSWERS and answer.get("certificate_id"):
            outcome.answered.setdefault(item["id"], set()).add(answer["certificate_id"])
        else:
            outcome.false_refusals += 1
            outcome.note(f"false refusal: {answer.get('status')} {answer.get('reason_code')} {answer.get('reason', '')[:120]}")


PATIENT_SIGN_IN_S = 600.0  # `patient_sign_in`: how long the second try waits for its answer


async def run_load(api_url: str, learners: int, *, one_address: bool = False,
                   server: ServerProcess | None = None, profile_to: Path | None = None,
                   patient_sign_in: bool = False, fetch_certificates: bool = True,
                   certificates_within_s: float = FINISH_DEADLINE_S,
                   on_answered: Callable[[], object] | None = None) -> LoadOutcome:
    """The scenario against a running server, step by step (module docstring). With
    `server`, its CPU per step; with `profile_to` too, where its CPU went in the
    completions step (tests/support/cpu_profile.py, py-spy's samples written there).
    `patient_sign_in`: the second try of a failed sign-in waits up to PATIENT_SIGN_IN_S, not
    the desktop's 30 s (on a loaded machine, so the completions step is still measured; the
    first failure still counts as an error). `fetch_certificates`: then the certificates
    step (module docstring), each learner giving up on a PDF after `certificates_within_s`.
    `on_answered` is called when the last POST was answered (before the certificates step)."""
    outcome = LoadOutcome(learners)
    tls = ssl.create_default_context()  # one for all: each client making its own costs ~20 ms of CPU
    crowd = [_Learner(i, api_url, outcome, one_address, tls) for i in range(learners)]
    step = _Steps(outcome, server)
    try:
        await step("sign-in", [c.sign_in() for c in crowd])
        again = [c for c in crowd if c.auth is None]
        if again:  # as a learner whose sign-in failed would: once more, the failure counted as an error
            outcome.signed_in_again = len(again)
            await step("sign-in again", [c.sign_in(PATIENT_SIGN_IN_S if patient_sign_in else None) for c in again])
            outcome.signed_in_at_second_try = sum(1 for c in again if c.auth is not None)
        signed_in = [c for c in crowd if c.auth is not None]
        await step("catalog", [c.fetch_catalog() for c in signed_in])
        profile = Profile.start(server.proc.pid, profile_to) if server is not None and profile_to else None
        try:
            await step("completion POST", [c.post_completions(c.i % DOUBLED_EVERY == 0) for c in signed_in])
        finally:
            if profile is not None:
                outcome.profile = profile.stop()
        await step("re-send", [c.post("re-send") for c in signed_in])
        outcome.answered_at = time.monotonic()
        outcome.server_cpu_at_answer = server.cpu_seconds() if server is not None else None
        if on_answered is not None:
            on_answered()
        if fetch_certificates:
            deadline = outcome.answered_at + certificates_within_s
            await step("certificates", [c.fetch_certificates(deadline) for c in signed_in])
    finally:
        await asyncio.gather(*(c.client.aclose() for c in crowd))
    return outcome


class _Steps:
    """Runs one step of every learner at once; notes its wall time and the server's CPU."""

    def __init__(self, outcome: LoadOutcome, server: ServerProcess | None) -> None:
        self.outcome = outcome
        self.server = server

    async def __call__(self, name: str, work: list) -> None:
        cpu = self.server.cpu_seconds() if self.server is not None else 0.0
        started, client = time.perf_counter(), time.process_time()
        await asyncio.gather(*work)
        self.outcome.step_s[name] = time.perf_counter() - started
        self.outcome.client_cpu_s[name] = time.process_time() - client
        if self.server is not None:
            self.outcome.server_cpu_s[name] = self.server.cpu_seconds() - cpu


# ---------------------------------------------------------------- exactly once


@dataclass
class CountCheck:
    sent: int
    stored: int  # completions in the database
    certificates: int
    missing: int  # sent, not stored
    unexpected: int  # stored, never sent
    without_certificate: int
    answers_disagree: int  # answers named another certificate than the stored one, or several

    @property
    def ok(self) -> bool:
        return (self.stored == self.certificates == self.sent
                and not (self.missing or self.unexpected or self.without_certificate or self.answers_disagree))

    def summary(self) -> str:
        verdict = "yes" if self.ok else "NO"
        text = f"stored exactly once: {verdict} ({self.stored} completions, {self.certificates} certificates for {self.sent} sent"
        problems = [f"{n} {what}" for n, what in ((self.missing, "missing"), (self.unexpected, "never sent"),
                    (self.without_certificate, "without certificate"), (self.answers_disagree, "answered another certificate"))
                    if n]
        return text + ("; " + ", ".join(problems) if problems else "") + ")"


def check_exactly_once(data_dir: Path, database_url: str | None, outcome: LoadOutcome) -> CountCheck:
    """Compare the database with what was sent and answered (read with SQLAlchemy)."""
    engine = make_engine(database_url or default_url(data_dir))
    try:
        with engine.connect() as con:
            rows = con.execute(select(Completion.id, Certificate.id).outerjoin(
                Certificate, Certificate.completion_id == Completion.id)).all()
            certificates = con.execute(select(func.count()).select_from(Certificate)).scalar_one()
    finally:
        engine.dispose()
    stored = {completion_id: cert_id for completion_id, cert_id in rows}
    return CountCheck(
        sent=len(outcome.sent),
        stored=len(rows),
        certificates=certificates,
        missing=len(outcome.sent - stored.keys()),
        unexpected=len(stored.keys() - outcome.sent),
        without_certificate=sum(1 for cert in stored.values() if cert is None),
        answers_disagree=sum(1 for cid, named in outcome.answered.items() if named != {stored.get(cid)}),
    )


# ---------------------------------------------------------------- one run


@dataclass
class Finishing:
    """After the last POST answer: until every certificate's credential was signed and its
    PDF rendered (the server's finisher, creditserver/finishing.py), and the server's CPU then."""

    certificates: int
    deadline_s: float  # how long it was waited for
    signed_after_s: float | None  # None: not all within the deadline
    rendered_after_s: float | None
    server_cpu_s: float  # from the last POST answer until all were rendered (or the deadline)
    unrendered: int = 0  # PDFs still not rendered at the end

    def summary(self) -> str:
        def after(value: float | None) -> str:
            return f"{value:.1f} s" if value is not None else f"not within {self.deadline_s:g} s"

        per = self.server_cpu_s * 1000 / self.certificates if self.certificates else 0.0
        left = f" ({self.unrendered} not rendered then)" if self.unrendered else ""
        return (f"after the last POST answer: all {self.certificates} credentials signed {after(self.signed_after_s)}, "
                f"all PDFs rendered {after(self.rendered_after_s)}{left}; server CPU then {self.server_cpu_s:.1f} s = "
                f"{per:.1f} ms per certificate")


FINISH_POLL_S = 0.25


def wait_finished(server: ServerProcess, data_dir: Path, database_url: str | None,
                  deadline_s: float = FINISH_DEADLINE_S) -> Finishing:
    """Poll the database (read-only, with SQLAlchemy) until no certificate lacks its signed
    credential or its PDF, from the moment the last POST was answered (called then, on a
    thread of its own while the learners fetch their certificates); bounded."""
    engine = make_engine(database_url or default_url(data_dir))
    started, cpu = time.monotonic(), server.cpu_seconds()
    signed = rendered = None
    try:
        while True:  # asked at least once
            now = time.monotonic() - started
            with engine.connect() as con:
                total, unsigned, unrendered = con.execute(select(
                    func.count(), func.count().filter(Certificate.credential_json.is_(None)),
                    func.count().filter(Certificate.pdf.is_(None)))).one()
            if signed is None and not unsigned:
                signed = now
            if not unrendered:
                rendered = now
                break
            if now >= deadline_s:
                break
            time.sleep(FINISH_POLL_S)
    finally:
        engine.dispose()
    return Finishing(total, deadline_s, signed, rendered, server.cpu_seconds() - cpu, unrendered)


@dataclass
class LoadRun:
    outcome: LoadOutcome
    check: CountCheck
    server_cpu_s: float
    client_cpu_s: float
    machine_load: float  # the 1-minute load average as the run began: other work on the machine
    finishing: Finishing | None = None

    @property
    def completions_per_s(self) -> float:
        wall = self.outcome.step_s.get("completion POST", 0.0)
        return self.outcome.delivered_first / wall if wall else 0.0

    @property
    def correct(self) -> bool:
        return self.outcome.error_count == 0 and self.outcome.false_refusals == 0 and self.check.ok


def run_once(data_dir: Path, database_url: str | None, learners: int, *, workers: int = 1,
             one_address: bool = False, profile: bool = False, patient_sign_in: bool = False,
             finish_wait_s: float = FINISH_DEADLINE_S, fetch_certificates: bool = True) -> LoadRun:
    """Prepare `data_dir` (and the empty database at `database_url`), serve it, run the
    scenario, check the database, stop the server. WorkersUnavailable before any setup.
    `profile`: sample where the server's CPU goes while the completions are posted."""
    serve_arguments(data_dir, database_url, 0, workers)  # fail fast, before the setup
    prepare_data(data_dir, database_url, learners)
    server = ServerProcess(data_dir, database_url, workers)
    try:
        machine_load = os.getloadavg()[0]
        cpu_before, client_before = server.cpu_seconds(), time.process_time()
        # The finishing is watched from the last POST answer on, while the learners fetch.
        finished: list[Finishing] = []
        watcher = threading.Thread(target=lambda: finished.append(
            wait_finished(server, data_dir, database_url, finish_wait_s)), name="finishing watch", daemon=True)
        outcome = asyncio.run(run_load(server.api_url, learners, one_address=one_address, server=server,
                                       profile_to=data_dir.parent / "completions.pyspy" if profile else None,
                                       patient_sign_in=patient_sign_in, fetch_certificates=fetch_certificates,
                                       certificates_within_s=finish_wait_s, on_answered=watcher.start))
        server_cpu = (outcome.server_cpu_at_answer or server.cpu_seconds()) - cpu_before
        client_cpu = time.process_time() - client_before - outcome.client_cpu_s.get("certificates", 0.0)
        if watcher.ident is not None:
            watcher.join()
        finishing = finished[0] if finished else wait_finished(server, data_dir, database_url, finish_wait_s)
    finally:
        server.stop()
    return LoadRun(outcome, check_exactly_once(data_dir, database_url, outcome), server_cpu, client_cpu, machine_load,
                   finishing)


def run_floor(data_dir: Path, database_url: str, learners: int, *, workers: int = 2,
              profile: bool = False) -> LoadOutcome:
    """The same scenario against the floor server (tests/support/floor_server.py) on the
    empty PostgreSQL database at `database_url`; its outcome, with the server's CPU per step.
    No certificates step: the floor issues no certificates."""
    data_dir.mkdir(parents=True, exist_ok=True)
    server = ServerProcess(data_dir, database_url, workers, floor=True)
    try:
        return asyncio.run(run_load(server.api_url, learners, server=server, fetch_certificates=False,
                                    profile_to=data_dir.parent / "floor.pyspy" if profile else None))
    finally:
        server.stop()
