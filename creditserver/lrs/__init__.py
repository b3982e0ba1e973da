"""Reporting to a learning record store: each accepted completion also becomes xAPI
statements (cmi5-style: completed, passed/failed, with score and duration) sent to the
provider's LRS.

Where each part lives:
- `statements`: the statements a completion becomes (pure; fixed ids, so a resend never duplicates);
- `outbox`: the queue in the server's database (written with the completion; claimed with a lease);
- `sender`: the background thread that delivers, backs off while the LRS is down, records refusals;
- `config`: serve's `--lrs-url`, `--lrs-auth-file` (user:password, owner-only), `--lrs-send`.
"""

from .config import LrsConfig, lrs_config
from .outbox import enqueue_statements, queue_status, requeue
from .statements import XapiReporting

__all__ = ["LrsConfig", "XapiReporting", "enqueue_statements", "lrs_config", "queue_status", "requeue"]
