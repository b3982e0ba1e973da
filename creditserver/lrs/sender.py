"""The background sender: delivers queued xAPI statements to the LRS and marks them.

One daemon thread per server process. It claims a few due statements (outbox.claim: a
lease, so several processes never send the same row at once), PUTs each to
`<lrs>/statements?statementId=<id>` and records the answer:

- 204 (stored) or 409 (the LRS has this id already: ours are fixed, so it is this
  statement) → sent;
- no connection, a timeout, 5xx, 408 or 429 → the LRS is down or busy: the statement stays
  queued, the rest of the claim is given back, and the sender waits, 5 s at first, doubling
  to 300 s while the LRS stays down, then starts again at 5 s once a statement goes through;
- 400, 413, 422 → the LRS refuses this statement: refused at once with its answer as the reason;
- any other 4xx (bad credentials 401/403, a wrong address 404 …) → kept queued with the
  reason and tried again with the same backoff, up to MAX_TRIES, then refused (the
  provider fixes the setting and runs `cme-credit-server lrs retry`).

Threading: the sender owns its httpx client; everything it shares with request handlers
goes through the database. `close()` stops it between two statements.
"""

from __future__ import annotations

import logging
import ssl
import threading
from datetime import timedelta

import httpx
import truststore

from ..db import Database
from ..models import utcnow
from . import outbox
from .config import LrsConfig
from .statements import XAPI_VERSION

log = logging.getLogger(__name__)

CLAIM_SIZE = 20
LEASE_S = 120.0  # longer than CLAIM_SIZE statements take at the timeout below
TIMEOUT_S = 5.0
MAX_TRIES = 10
REFUSED_AT_ONCE = {400, 413, 422}
TRANSIENT = {408, 429}


class _LrsDown(Exception):
    """The LRS did not answer, or answered that it cannot take anything now."""


class LrsSender:
    def __init__(self, db: Database, config: LrsConfig) -> None:
        self.db = db
        self.config = config
        self._delay = config.retry_min_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cme-lrs-sender", daemon=True)
        self._client = httpx.Client(
            auth=(config.username, config.password),
            timeout=TIMEOUT_S,
            verify=truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT),  # the OS trust store: a provider's own CA
            headers={"X-Experience-API-Version": XAPI_VERSION, "Content-Type": "application/json"},
            follow_redirects=False,
            trust_env=False,  # the LRS is reached directly, not through a proxy set for something else
        )

    def start(self) -> LrsSender:
        self._thread.start()
        return self

    def close(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self.deliver_due()
            except Exception:  # a database hiccup: keep the thread, try again after a pause
                log.exception("the xAPI sender failed; trying again in %s s", self._delay)
                wait = self._delay
            self._stop.wait(wait)

    def deliver_due(self) -> float:
        """Send what is due (one claim at a time, until none is left or the LRS is down);
        returns how long to wait before looking again."""
        while not self._stop.is_set():
            owner = outbox.new_owner()
            claimed = outbox.claim(self.db, owner, limit=CLAIM_SIZE, lease_s=LEASE_S)
            if not claimed:
                return self.config.poll_s
            try:
                self._send_claim(owner, claimed)
            except _LrsDown as exc:
                delay = self._delay
                self._delay = min(self._delay * 2, self.config.retry_max_s)
                log.warning("the LRS at %s cannot take statements now (%s); trying again in %.0f s",
                            self.config.url, exc, delay)
                outbox.release(self.db, owner, utcnow() + timedelta(seconds=delay))
                return delay
        return 0.0

    def _send_claim(self, owner: str, claimed: list[outbox.Claimed]) -> None:
        sent: list[str] = []
        try:
            for item in claimed:
                if self._stop.is_set():
                    break
                if self._send_one(owner, item):
                    sent.append(item.statement_id)
                    self._delay = self.config.retry_min_s
        finally:
            outbox.mark_sent(self.db, owner, sent)
        outbox.release(self.db, owner, utcnow())  # anything left after a stop: due at once

    def _send_one(self, owner: str, item: outbox.Claimed) -> bool:
        """True when the LRS holds the statement now; raises _LrsDown (after marking the row)."""
        try:
            r = self._client.put(
                f"{self.config.url}/statements",
                params={"statementId": item.statement_id},
                content=item.statement_json.encode("utf-8"),
            )
        except httpx.HTTPError as exc:
            reason = f"no answer from the LRS: {type(exc).__name__}: {exc}"
            outbox.mark_retry(self.db, owner, item.statement_id, reason, self._retry_at())
            raise _LrsDown(reason) from None
        if r.status_code in (200, 204):
            return True
        if r.status_code == 409:
            log.info("the LRS already holds statement %s (409): delivered", item.statement_id)
            return True
        reason = f"the LRS answered {r.status_code}: {r.text[:300].strip()}"
        if r.status_code >= 500 or r.status_code in TRANSIENT:
            outbox.mark_retry(self.db, owner, item.statement_id, reason, self._retry_at())
            raise _LrsDown(reason)
        if r.status_code in REFUSED_AT_ONCE or item.tries + 1 >= MAX_TRIES:
            log.error("the LRS refused statement %s: %s", item.statement_id, reason)
            outbox.mark_refused(self.db, owner, item.statement_id, reason)
            return False
        # Credentials or address wrong: nothing else will go through either.
        outbox.mark_retry(self.db, owner, item.statement_id, reason, self._retry_at())
        raise _LrsDown(reason)

    def _retry_at(self):
        return utcnow() + timedelta(seconds=self._delay)
