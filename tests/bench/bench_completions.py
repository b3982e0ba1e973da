"""Completion sync throughput: 1,000 completions delivered over loopback in batches.

Not collected by pytest (no `test_` prefix). Run it:

    .venv/bin/python -m tests.bench.bench_completions

Setup (not timed): a credit server on a fresh SQLite data dir, 1,000 copies of the demo
activity (credit is given once per learner and activity, so each completion needs its
own) and one signed-in physician. Timed: POST /completions in batches of 500 (the
protocol's maximum), every item re-graded, stored with its attempt, evaluation and claim,
and certified (a signed credential each). Target: ≤ 5 s and ≤ 10 requests. Then the same
1,000 again, which must all come back as duplicates (a client retrying after a lost reply).
"""

from __future__ import annotations

import json
import sys
import time

from tests.bench.demo_server import demo_server

N = 1000
BATCH = 500
TARGET_S = 5.0
TARGET_REQUESTS = 10


def main() -> int:
    import httpx

    from creditserver.demo import DEMO_ACTIVITY_ID
    from creditserver.models import ActivityRecord
    from creditserver.publish import _store_activity
    from tests.server.credit_support import completion, signed_in
    from tests.support.activities import activity_doc

    with demo_server("completions") as server:
        db = server.app.state.db
        with db.session() as s:
            assert s.get(ActivityRecord, DEMO_ACTIVITY_ID) is not None
            for i in range(N):
                _store_activity(s, activity_doc(f"bench-{i:04d}"))
        items = [completion(f"bench-{i:04d}") for i in range(N)]
        with httpx.Client(base_url=server.api_url, timeout=60) as api:
            auth = signed_in(api, "demo")
            for label in ("first delivery", "resent (duplicates)"):
                server.request_log.clear()
                statuses: dict[str, int] = {}
                started = time.perf_counter()
                for start in range(0, N, BATCH):
                    r = api.post("/completions", json={"completions": items[start : start + BATCH]}, headers=auth)
                    r.raise_for_status()
                    for res in r.json()["results"]:
                        statuses[res["status"]] = statuses.get(res["status"], 0) + 1
                wall = time.perf_counter() - started
                requests = len(server.request_log.matching("/api/v1/completions", "POST"))
                ok = wall <= TARGET_S and requests <= TARGET_REQUESTS
                print(
                    f"{label}: {N} completions in {wall:.2f} s over {requests} requests "
                    f"({N / wall:.0f}/s) {json.dumps(statuses)} "
                    f"[target ≤ {TARGET_S:g} s, ≤ {TARGET_REQUESTS} requests: {'met' if ok else 'MISSED'}]",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
