"""Client outbox throughput: 1,000 pending completions delivered from the desktop's outbox.

Not collected by pytest (no `test_` prefix). Run it:

    .venv/bin/python -m tests.bench.bench_outbox

Setup (not timed): a credit server on a fresh SQLite data dir with 1,000 copies of the demo
activity (credit is given once per learner and activity, so each completion needs its
own; stored as bench_completions does), a desktop data dir signed in as the demo physician
with the catalog synced, and 1,000 claims written to its outbox (claim + outbox item in one
durable transaction each, as `claim_credit` does). Timed: `desktop.sync.outbox.deliver`
without certificates (batches of 200: every item re-graded and certified by the server,
every answer recorded in the cache). Target: <= 5 s and <= 10 requests. Then, separately,
fetching and verifying the 1,000 certificates (one list request, then PDF + signed JSON
each), and a second run with nothing to send.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

N = 1000
TARGET_S = 5.0
TARGET_REQUESTS = 10


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    import os

    os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
    os.environ["XDG_DATA_HOME"] = str(tmp / "keyring")
    import keyring.core

    keyring.core.init_backend()

    from creditserver.publish import _store_activity
    from creditserver.runner import serve_in_thread
    from cmecore import protocol
    from desktop.cache import credit_store
    from desktop.cache import learning_store as store
    from desktop.config import Paths
    from desktop.services import Services
    from desktop.sync.outbox import deliver
    from tests.server.credit_support import completion
    from tests.support.activities import activity_doc

    server = serve_in_thread(tmp / "server", demo=True)
    services = None
    try:
        with server.app.state.db.session() as s:
            for i in range(N):
                _store_activity(s, activity_doc(f"bench-{i:04d}"))
        services = Services(Paths(tmp / "client"), server_url=server.url)
        learner = services.sign_in("demo", "demo")
        services.sync()
        started = time.perf_counter()
        for i in range(N):
            item = protocol.CompletionIn.model_validate(completion(f"bench-{i:04d}"))
            store.add_completion(
                services.db, learner_id=learner.id, payload=item.model_dump(mode="json"), title=f"bench {i}",
                created_at=datetime.now(UTC).replace(tzinfo=None),
                completed_at_corrected=item.completed_at_corrected.astimezone(UTC).replace(tzinfo=None),
                credit_type=item.claim.credit_type, credits=item.claim.credits_claimed,
            )
        per_claim_ms = (time.perf_counter() - started) * 1000 / N
        print(f"setup: {N} claims written to the outbox in {per_claim_ms * N / 1000:.2f} s "
              f"(one fsynced transaction each): {per_claim_ms:.1f} ms per claim "
              f"(target <= 10 ms: {'met' if per_claim_ms <= 10 else 'not met'})", flush=True)
        assert services.pending_completions_count() == N

        server.request_log.clear()
        started = time.perf_counter()
        report = deliver(services.db, services.connection.api(), services.connection.account(), server.url, fetch_certificates=False)
        wall = time.perf_counter() - started
        requests = len(server.request_log.matching("/api/v1/"))
        ok = wall <= TARGET_S and requests <= TARGET_REQUESTS and report.accepted == N and report.remaining == 0
        print(
            f"delivery: {N} completions in {wall:.2f} s over {requests} requests ({N / wall:.0f}/s) "
            f"accepted={report.accepted} rejected={report.rejected} remaining={report.remaining} "
            f"[target <= {TARGET_S:g} s, <= {TARGET_REQUESTS} requests: {'met' if ok else 'MISSED'}]",
            flush=True,
        )

        server.request_log.clear()
        started = time.perf_counter()
        report = deliver(services.db, services.connection.api(), services.connection.account(), server.url)
        wall = time.perf_counter() - started
        missing = len(credit_store.missing_certificates(services.db, learner.id))
        print(f"certificates: {N - missing} fetched (PDF + signed JSON, signature verified) in {wall:.2f} s "
              f"over {len(server.request_log.matching('/api/v1/'))} requests; {report.certificates_preparing} PDFs "
              f"the server is still preparing (503 + Retry-After: after the first, this run asks for their signed "
              f"credentials only, each verified here)", flush=True)

        server.request_log.clear()
        started = time.perf_counter()
        report = deliver(services.db, services.connection.api(), services.connection.account(), server.url)
        print(f"nothing to send: {time.perf_counter() - started:.3f} s, "
              f"{len(server.request_log.matching('/api/v1/'))} requests", flush=True)
    finally:
        if services is not None:
            services.close()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
