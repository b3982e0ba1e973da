"""Handing a media file to a static server (nginx, a CDN) once the app has said yes.

Python sending a 256 MiB video in 64 KiB pieces costs about ten times what nginx's
sendfile does, and slows every API request meanwhile (issue 12). So the app keeps the
decision — the learner's token, the withdrawn-activity rule (media_access.py) — and a
static server sends the bytes, in one of two ways:

* **signed links** (`--media-base-url`): `GET /media/{sha256}` answers `307` to
  `BASE/ab/<sha256>?md5=…&expires=…`, a link that works for `--media-link-ttl` seconds, in
  the form nginx's `secure_link` module checks:
  `md5 = base64url(MD5("<expires><path> <secret>"))` without `=` padding, where `path` is
  the link's own path (`secure_link_md5 "$secure_link_expires$uri <secret>"`). The static
  server may be another host or a CDN; the desktop drops its token on the way there.
* **X-Accel-Redirect** (`--media-accel-prefix`, nginx in front of the app): the app answers
  `200` with an empty body and `X-Accel-Redirect: <prefix>ab/<sha256>`; nginx replaces the
  body with the file from an `internal` location, ranges and all.

Either way the catalog keeps naming `/api/v1/media/<sha256>`: a catalog cached by an older
desktop, or by one that was offline for months, still works, and every new attempt (a
resume too) gets a fresh link. The operator's nginx configuration is in
docs/deployment.md ("Media from a static server"); tests/downloads/test_media_nginx.py runs
a real nginx with that configuration.

The secret: the operator's (`--media-secret-file`), else one made once in the data folder
(`media-link-secret`, 0600) — made atomically, since several workers may start together.
MD5 is what nginx's `secure_link` offers; the secret comes last, so the usual length
extension does not apply, and a link is only worth `--media-link-ttl` seconds anyway.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from cmecore.addresses import is_loopback
from cmecore.private_files import open_private

SECRET_FILE_NAME = "media-link-secret"
DEFAULT_LINK_TTL_S = 300
# Safe inside nginx's quoted `secure_link_md5 "…"` string: no quote, `$`, `\`, space or braces.
_SECRET = re.compile(r"[A-Za-z0-9._~+/=-]{16,512}")


@dataclass(frozen=True)
class MediaDelivery:
    """How the server hands over a media file the learner may have (the serve options), and
    whether a static server's group may read the store. The defaults: the app sends the
    bytes itself and the store is owner-only."""

    base_url: str | None = None  # signed links to BASE/ab/<sha256>
    secret_file: Path | None = None  # else DATA_DIR/media-link-secret, made if missing
    link_ttl_s: int = DEFAULT_LINK_TTL_S
    accel_prefix: str | None = None  # X-Accel-Redirect: <prefix>ab/<sha256>
    group: str | None = None  # the static server's group may read the store (media_folder.py)

    def check(self) -> None:
        """ValueError naming the option when a setting cannot work."""
        if self.base_url is not None and self.accel_prefix is not None:
            raise ValueError("--media-base-url and --media-accel-prefix: give one of them, not both")
        if self.base_url is not None:
            parts = urlsplit(self.base_url)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
                raise ValueError(f"--media-base-url: must be an https:// address without ? or # (got {self.base_url!r})")
            if parts.scheme == "http" and not is_loopback(parts.hostname):
                raise ValueError(
                    f"--media-base-url: must be https:// (got {self.base_url!r}); learners' apps follow a plain "
                    "http:// link only to their own computer")
            if parts.username is not None or parts.password is not None:
                raise ValueError("--media-base-url: must not hold a user name or password")
        elif self.secret_file is not None:
            raise ValueError("--media-secret-file: only used with --media-base-url")
        if not 10 <= self.link_ttl_s <= 86_400:
            raise ValueError(f"--media-link-ttl: must be between 10 and 86400 seconds (got {self.link_ttl_s})")
        if self.group is not None and not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}", self.group):
            raise ValueError(f"--media-group: not a group name (got {self.group!r})")
        if self.accel_prefix is not None and not re.fullmatch(r"/[A-Za-z0-9._~/-]*/", self.accel_prefix):
            raise ValueError(
                f"--media-accel-prefix: must be a path that starts and ends with / (got {self.accel_prefix!r}), "
                "e.g. /cme-media-internal/")


class MediaLinks:
    """Signed links to the static server: `url_for(sha256)` is good for `ttl_s` seconds."""

    def __init__(self, base_url: str, secret: str, ttl_s: int = DEFAULT_LINK_TTL_S) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.ttl_s = ttl_s

    def url_for(self, sha256: str, *, now: float | None = None) -> str:
        expires = int(time.time() if now is None else now) + self.ttl_s
        path = unquote(urlsplit(self.base_url).path) + f"/{sha256[:2]}/{sha256}"  # nginx signs $uri, decoded
        return f"{self.base_url}/{sha256[:2]}/{sha256}?md5={sign(path, expires, self.secret)}&expires={expires}"


def sign(path: str, expires: int, secret: str) -> str:
    """What nginx computes for `secure_link_md5 "$secure_link_expires$uri <secret>"`: the
    MD5 of `<expires><path> <secret>`, base64url without padding. `path` is decoded, as $uri is."""
    digest = hashlib.md5(f"{expires}{path} {secret}".encode(), usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def load_secret(data_dir: Path, secret_file: Path | None) -> str:
    """The operator's secret, or the data folder's (made now if missing: 48 random
    characters, 0600). ValueError naming the option if the operator's file cannot be used."""
    if secret_file is not None:
        try:
            text = Path(secret_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"--media-secret-file: cannot read {secret_file}: {getattr(exc, 'strerror', None) or exc}") from None
        if not _SECRET.fullmatch(text):
            raise ValueError(
                f"--media-secret-file: {secret_file} must hold one line of 16-512 characters from A-Z a-z 0-9 "
                "and . _ ~ + / = - (they go inside nginx's quoted secure_link_md5 string)")
        return text
    path = Path(data_dir) / SECRET_FILE_NAME
    if not path.exists():
        _create_secret(path)
    return path.read_text(encoding="utf-8").strip()


def _create_secret(path: Path) -> None:
    """Write the secret whole to a temp file, then link it into place: a worker starting at
    the same moment either finds no file or the whole secret, and the first one made wins."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_urlsafe(36) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another worker made it first: use theirs
    finally:
        tmp.unlink(missing_ok=True)


def open_links(delivery: MediaDelivery, data_dir: Path) -> MediaLinks | None:
    """The signed-link maker for these settings, or None when links are not in use."""
    if delivery.base_url is None:
        return None
    return MediaLinks(delivery.base_url, load_secret(data_dir, delivery.secret_file), delivery.link_ttl_s)


def accel_path(prefix: str, sha256: str) -> str:
    return f"{prefix}{sha256[:2]}/{sha256}"
