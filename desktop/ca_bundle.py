"""An extra CA bundle (policy or settings `extra_ca_bundle`): read and checked once, as bytes.

A hospital's IT names a PEM file of its TLS-intercepting proxy's CA. A path that is wrong,
a file that is not PEM, a folder or a device must never stop the app: the policy reports
it as a problem (Settings, diagnostics, one log line) and uses no extra bundle; the HTTP
client then trusts the OS store alone (`desktop.sync.http.tls_context`). The bytes checked
are the bytes loaded, so a file swapped in between cannot slip past the check.

Standard library only (the policy is read at start).
"""

from __future__ import annotations

import os
import stat

MAX_CA_BUNDLE_BYTES = 8 * 1024 * 1024  # the Mozilla bundle is ~0.2 MB; anything far larger is not a CA bundle


def read_ca_bundle(path: str | os.PathLike) -> str:
    """The PEM text of the CA bundle at `path`, checked to hold at least one certificate that
    loads. Raises ValueError whose message says what is wrong, in plain words."""
    try:
        info = os.stat(path)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ValueError(f"the CA bundle {os.fspath(path)!r} cannot be read ({reason})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"the CA bundle {os.fspath(path)!r} is not a file")
    if info.st_size > MAX_CA_BUNDLE_BYTES:
        raise ValueError(f"the CA bundle {os.fspath(path)!r} is larger than {MAX_CA_BUNDLE_BYTES // 2**20} MB")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CA_BUNDLE_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"the CA bundle {os.fspath(path)!r} cannot be read ({exc.strerror or exc})") from None
    import ssl  # start-up speed: OpenSSL loads only when a policy or a setting names a bundle

    try:
        text = data.decode("ascii")
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=text)
    except (UnicodeDecodeError, ssl.SSLError, ValueError):
        raise ValueError(f"the CA bundle {os.fspath(path)!r} holds no PEM certificate "
                         "(it must be text with -----BEGIN CERTIFICATE----- blocks)") from None
    return text


def ca_bundle_problem(path: str | os.PathLike) -> str | None:
    """What is wrong with the CA bundle at `path`, or None when it can be used."""
    try:
        read_ca_bundle(path)
    except ValueError as exc:
        return str(exc)
    return None
