"""What the help desk needs to see, in one block: `Services.diagnostics()`, the Settings
page's "Copy diagnostics" and `cme-offline diagnostics [--json]`. It reads across every
capability of a composed `Services` (through their public methods only).

Never a token: nothing here reads the keyring, settings hold no secrets, and the log
lines are passed through the same redaction as the log file.
"""

from __future__ import annotations

import json
import platform
import sys
from datetime import datetime

from desktop import __version__
from desktop.cache.library import sync_state
from desktop.ca_bundle import ca_bundle_problem
from desktop.config import Settings
from desktop.logs import current_log_file, redact, tail

LOG_LINES = 200


def collect(services) -> dict:
    """`services`: a desktop.services.Services (not imported here: it imports this module)."""
    paths = services.paths
    config = services.config
    log_file = current_log_file()
    state = sync_state(services.db, config.server_url) if config.server_url else None
    policy = config.policy
    settings = {}
    for name in Settings.model_fields:
        if name in ("first_run_done",):
            continue
        settings[name] = {
            "value": getattr(config.settings, name),
            "source": "policy" if policy.is_set(name) else (
                "user" if name in config.user_settings.model_fields_set else "default"),
        }
        if policy.is_set(name):
            settings[name]["policy_source"] = policy.sources[name]
    for name in ("storage_location", "server_public_key"):
        if policy.is_set(name):
            settings[name] = {"value": policy.get(name), "source": "policy", "policy_source": policy.sources[name]}
    try:
        jobs = services.downloads.jobs()
    except Exception as exc:  # a diagnostics block must come out even from a broken cache
        jobs, queue_error = [], str(exc)
    else:
        queue_error = None
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job.state] = counts.get(job.state, 0) + 1
    learner = services.account.current_learner()
    shared = config.shared_content_dir()
    try:
        pending = services.syncing.pending_completions_count()
    except Exception:
        pending = None
    data = {
        "app": {"name": "CME Offline", "version": __version__},
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "qt": _qt_version(),
        "libvlc": _libvlc_version(),
        "paths": {
            "data_dir": str(paths.data_dir),
            "database": str(paths.database),
            "blobs": str(paths.blobs),
            "settings": str(paths.settings),
            "log_file": str(log_file) if log_file else None,
            "shared_content_dir": str(shared) if shared else None,
        },
        "policy": {
            "file": str(policy.file) if policy.file else None,
            "file_exists": bool(policy.file and policy.file.is_file()),
            "keys": dict(policy.sources),
            "problems": list(policy.problems),
        },
        "settings": settings,
        "settings_problems": _settings_problems(config),
        "server_url": config.server_url,
        "online": services.connection.online,
        "learner": learner.username if learner else None,
        "last_sync_at": _iso(state.last_sync_at) if state else None,
        "last_sync_error": state.last_error if state else None,
        "clock_offset_ms": state.clock_offset_ms if state else None,
        "storage_bytes": services.blobs.bytes_used(),
        "download_queue": counts,
        "download_queue_error": queue_error,
        "pending_completions": pending,
        "log_tail": tail(log_file, LOG_LINES),
    }
    return data


def as_text(data: dict) -> str:
    """The block pasted into a help-desk ticket."""
    lines = [
        f"CME Offline {data['app']['version']} on {data['os']}",
        f"Python {data['python']}, Qt {data['qt'] or 'not loaded'}, libvlc {data['libvlc'] or 'not found'}",
        f"Server: {data['server_url'] or '(none)'}  learner: {data['learner'] or '(not signed in)'}",
        f"Last sync: {data['last_sync_at'] or 'never'}" + (
            f"  error: {data['last_sync_error']}" if data["last_sync_error"] else ""),
        f"Storage used: {data['storage_bytes']} bytes; download queue: "
        + (", ".join(f"{k} {v}" for k, v in sorted(data["download_queue"].items())) or "empty")
        + (f"; completions waiting: {data['pending_completions']}" if data.get("pending_completions") else ""),
        "",
        "Paths:",
        *[f"  {k}: {v}" for k, v in data["paths"].items()],
        "",
        f"Machine policy: {data['policy']['file']} ({'found' if data['policy']['file_exists'] else 'not present'})",
        *[f"  sets {k} ({v})" for k, v in sorted(data["policy"]["keys"].items())],
        *[f"  problem: {p}" for p in data["policy"]["problems"]],
        "",
        "Settings (value, source):",
        *[f"  {k} = {json.dumps(v['value'])} [{v['source']}]" for k, v in data["settings"].items()],
        *[f"  problem: {p}" for p in data["settings_problems"]],
        "",
        f"Last {len(data['log_tail'])} log lines:",
        *data["log_tail"],
    ]
    return redact("\n".join(lines)) + "\n"


def as_json(data: dict) -> str:
    return redact(json.dumps(data, indent=2, default=str))


def _settings_problems(config) -> list[str]:
    """What makes a user's setting unusable now (a policy's problems are the policy's)."""
    ca = config.settings.extra_ca_bundle
    if ca and not config.policy.is_set("extra_ca_bundle") and (problem := ca_bundle_problem(ca)):
        return [f"extra_ca_bundle: {problem}; the operating system's certificate store is used alone"]
    return []


def _qt_version() -> str | None:
    try:
        import PySide6  # optional here: the CLI may run where Qt is not installed
        from PySide6 import QtCore  # optional here, as above

        return f"{QtCore.qVersion()} (PySide6 {PySide6.__version__})"
    except Exception:
        return None


def _libvlc_version() -> str | None:
    try:
        from desktop.media.player import probe_libvlc  # optional dependency: libvlc, probed only here

        if probe_libvlc() is not None:
            return None
        import vlc  # optional dependency (python-vlc)

        raw = vlc.libvlc_get_version()
        return raw.decode() if isinstance(raw, bytes) else str(raw)
    except Exception:
        return None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None
