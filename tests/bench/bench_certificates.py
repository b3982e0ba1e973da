"""Certificate fetches: 1,000 certificate PDFs fetched over loopback.

Not collected by pytest (no `test_` prefix). Run it:

    .venv/bin/python -m tests.bench.bench_certificates

Setup (not timed for the target): a credit server on a fresh SQLite data dir, 1,000 copies
of the demo activity and one signed-in physician who earns a certificate in each; the
server renders each PDF once, just after the reply (its time is printed). Timed: GET
/certificates/{id} for all 1,000, one after another, as a learner's devices would at a
deadline. Target (issue 12): ≤ 10 s — before PDFs were stored, each fetch rendered its PDF
(~150 ms of CPU) and 1,000 took 160–265 s.
"""

from __future__ import annotations

import sys
import time

from tests.bench.demo_server import demo_server

N = 1000
BATCH = 500
TARGET_S = 10.0


def main() -> int:
    import httpx

    from creditserver.certificates import renders_done
    from creditserver.publish import _store_activity
    from tests.server.credit_support import completion, signed_in
    from tests.support.activities import activity_doc

    with demo_server("certificates") as server:
        with server.app.state.db.session() as s:
            for i in range(N):
                _store_activity(s, activity_doc(f"bench-{i:04d}"))
        items = [completion(f"bench-{i:04d}") for i in range(N)]
        with httpx.Client(base_url=server.api_url, timeout=120) as api:
            auth = signed_in(api, "demo")
            started = time.perf_counter()
            ids: list[str] = []
            for start in range(0, N, BATCH):
                r = api.post("/completions", json={"completions": items[start : start + BATCH]}, headers=auth)
                r.raise_for_status()
                ids += [res["certificate_id"] for res in r.json()["results"] if res["status"] == "accepted"]
            answered = time.perf_counter() - started
            assert server.app.state.finisher.drain(timeout=1800)
            rendered = time.perf_counter() - started
            print(f"issue: {len(ids)} certificates answered in {answered:.1f} s, "
                  f"their PDFs rendered and stored {rendered:.1f} s after the first POST", flush=True)

            renders_before = renders_done()
            sizes = 0
            started = time.perf_counter()
            for cert_id in ids:
                r = api.get(f"/certificates/{cert_id}", headers=auth)
                r.raise_for_status()
                sizes += len(r.content)
            wall = time.perf_counter() - started
            renders = renders_done() - renders_before
            ok = wall <= TARGET_S and len(ids) == N
            print(
                f"fetch: {len(ids)} certificate PDFs in {wall:.2f} s ({len(ids) / wall:.0f}/s, "
                f"{sizes / max(len(ids), 1) / 1024:.0f} KiB each, {renders} rendered while fetching) "
                f"[target ≤ {TARGET_S:g} s for {N}: {'met' if ok else 'not met'}]",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
