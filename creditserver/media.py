"""The content-addressed media store and `GET|HEAD /media/{sha256}` with byte ranges.

Files live at DATA_DIR/media/ab/<sha256>. Ranges follow RFC 9110 §14: one range
(`a-b`, `a-`, `-n`) gives 206; a range that starts past the end gives 416; several
ranges or a syntactically bad header give the whole file (200). `If-Range` with any
value other than the file's strong ETag (a different ETag or a date) also gives 200.
The file of a withdrawn activity is refused (403) to a learner who has not completed it
(creditserver/media_access.py). Once that is settled, a static server may send the bytes
instead: a 307 to a signed link, or X-Accel-Redirect to nginx in front (media_links.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from cmecore.protocol import API_PREFIX, Problem

from .auth import BearerToken, learner_id_for_token
from .db import Database
from .media_access import MediaAccess
from .media_folder import SHARED_FILE, open_store_folder, share_with_group, store_subfolder
from .media_links import MediaLinks, accel_path
from .models import MediaObject
from .problems import ProblemError

CHUNK_SIZE = 64 * 1024
CACHE_CONTROL = "private, max-age=31536000, immutable"  # named by its content: it never changes
SHA256_PATTERN = r"^[0-9a-f]{64}$"


def media_url(sha256: str) -> str:
    return f"{API_PREFIX}/media/{sha256}"


class MediaStore:
    """Files named by their SHA-256; written to a temp file, fsynced, then renamed.

    Owner-only like the database (cmecore.private_files), unless `group` (or an earlier
    `--media-group`) shared the store with a static server's group (media_folder.py)."""

    def __init__(self, root: Path, *, group: str | None = None) -> None:
        self.root = Path(root)
        if group is not None:
            share_with_group(self.root, group)
        self.shared = open_store_folder(self.root)

    def path_for(self, sha256: str) -> Path:
        if not re.fullmatch(SHA256_PATTERN, sha256):
            raise ValueError("not a sha256")
        return self.root / sha256[:2] / sha256

    def subfolder(self, path: Path) -> None:
        """A folder inside the store, with the store's modes (renditions.py keeps its manifests in one)."""
        store_subfolder(path, self.shared)

    def put_file(self, source: Path) -> tuple[str, int]:
        """Copy `source` into the store; return (sha256, size)."""
        h = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, suffix=".part")
        try:
            if self.shared:
                os.fchmod(fd, SHARED_FILE)  # mkstemp makes 0600; the setgid folder gave it the group
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                while chunk := src.read(1024 * 1024):
                    h.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = h.hexdigest()
            dest = self.path_for(sha)
            if dest.exists() and dest.stat().st_size == size:
                os.unlink(tmp_name)
            else:
                store_subfolder(dest.parent, self.shared)
                os.replace(tmp_name, dest)
            return sha, size
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def put(self, session: Session, source: Path, media_type: str) -> MediaObject:
        sha, size = self.put_file(source)
        return self.record(session, sha, size, media_type)

    def record(self, session: Session, sha: str, size: int, media_type: str) -> MediaObject:
        """The row for a file already in the store (put_file), added if missing."""
        obj = session.get(MediaObject, sha)
        if obj is None:
            obj = MediaObject(sha256=sha, size=size, media_type=media_type)
            session.add(obj)
        return obj


# ---------------------------------------------------------------- ranges


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class Unsatisfiable(Exception):
    pass


_RANGE_RE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")
_FAR = 10**19  # past the end of any file


def _position(digits: str) -> int:
    """A byte position from the header; any number too long to be a real position counts as
    "past the end" (Python refuses int() of more than 4300 digits)."""
    return int(digits) if len(digits) < 19 else _FAR


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range asked for, or None for "send the whole file".

    Raises Unsatisfiable for a well-formed single range that selects no byte.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        return None
    if "," in spec:
        return None  # several ranges: we answer with the whole representation
    m = _RANGE_RE.match(spec)
    if not m:
        return None
    first, last = m.group(1), m.group(2)
    if first == "" and last == "":
        return None
    if first == "":  # suffix: the last n bytes
        n = _position(last)
        if n == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(max(0, size - n), size - 1)
    start = _position(first)
    if last != "" and _position(last) < start:
        return None  # invalid syntax: ignore the header
    if start >= size:
        raise Unsatisfiable
    end = size - 1 if last == "" else min(_position(last), size - 1)
    return ByteRange(start, end)


def _if_range_allows(if_range: str | None, etag: str) -> bool:
    if if_range is None:
        return True
    value = if_range.strip()
    # Only a strong ETag comparison may honour the range; a date (or a weak or other tag) cannot.
    return value == etag


def _stream(path: Path, start: int, length: int) -> Iterator[bytes]:
    with open(path, "rb") as f:
        f.seek(start)
        remaining = length
        while remaining > 0:
            chunk = f.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


router = APIRouter(tags=["media"])

_media_responses = {
    200: {"description": "The whole file (with `--media-accel-prefix`: an empty body and X-Accel-Redirect, "
                 "which nginx in front replaces with the file).", "content": {"application/octet-stream": {}}},
    206: {"description": "The requested byte range.", "content": {"application/octet-stream": {}}},
    307: {"description": "With `--media-base-url`: the file is at the Location, a signed link that works for "
                 "a few minutes (send Range and If-Range there too, not the token)."},
    401: {"model": Problem, "description": "Not signed in."},
    403: {"model": Problem, "description": "The file's activity was withdrawn and this learner has not completed it."},
    404: {"model": Problem, "description": "No such media."},
    416: {"model": Problem, "description": "The range starts past the end of the file."},
}


@router.get(
    "/media/{sha256}",
    operation_id="get_media",
    response_class=Response,
    responses=_media_responses,
)
@router.head(
    "/media/{sha256}",
    operation_id="head_media",
    response_class=Response,
    responses=_media_responses,
)
def get_media(
    request: Request,
    sha256: Annotated[str, PathParam(max_length=200, description="SHA-256 of the file: 64 lowercase hex digits")],
    credentials: BearerToken,
) -> Response:
    """On the thread pool in one hop: the token is read from the header on the event loop
    (FastAPI's own, async HTTPBearer), then sign-in and the access rule are read in one database
    connection, without the ORM. With a static server in front this route is mostly 307s, one
    per download, and each hop, session or ORM row costs CPU nginx needs (issue 12)."""
    db: Database = request.app.state.db
    store: MediaStore = request.app.state.media
    access: MediaAccess = request.app.state.media_access
    with db.reading() as connection:
        learner_id = learner_id_for_token(connection, credentials)
        # Checked here, after sign-in, and before the value comes near the filesystem.
        if not re.fullmatch(SHA256_PATTERN, sha256):
            raise ProblemError(404, "No such media",
                               detail="Media are named by a SHA-256: 64 lowercase hex digits.")
        media_type = connection.scalar(_MEDIA_TYPE, {"sha256": sha256})
        if media_type is not None:
            access.check(connection, sha256, learner_id)
    path = store.path_for(sha256)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        size = None
    if media_type is None or size is None:
        raise ProblemError(404, "No such media", detail=f"No file with SHA-256 {sha256} is stored here.")

    if (handed := _hand_over(request, sha256, media_type)) is not None:
        return handed
    etag = f'"{sha256}"'
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Cache-Control": CACHE_CONTROL,
    }
    rng: ByteRange | None = None
    if _if_range_allows(request.headers.get("if-range"), etag):
        try:
            rng = parse_range(request.headers.get("range"), size)
        except Unsatisfiable:
            raise ProblemError(
                416,
                "Range not satisfiable",
                detail=f"The file is {size} bytes long.",
                headers={**headers, "Content-Range": f"bytes */{size}"},
            ) from None

    if rng is None:
        status, start, length = 200, 0, size
    else:
        status, start, length = 206, rng.start, rng.length
        headers["Content-Range"] = f"bytes {rng.start}-{rng.end}/{size}"
    headers["Content-Length"] = str(length)

    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media_type)
    return StreamingResponse(_stream(path, start, length), status_code=status, headers=headers, media_type=media_type)


# Built once (SQLAlchemy caches a statement's compiled form by a key it computes per object).
_MEDIA_TYPE = select(MediaObject.media_type).where(MediaObject.sha256 == bindparam("sha256"))


def _hand_over(request: Request, sha256: str, media_type: str) -> Response | None:
    """The answer that lets a static server send the file (media_links.py), or None when
    the app sends it itself. Only reached once the learner may have the file."""
    links: MediaLinks | None = request.app.state.media_links
    if links is not None:
        return Response(status_code=307, headers={"Location": links.url_for(sha256), "Cache-Control": "no-store"})
    prefix: str | None = request.app.state.media_accel_prefix
    if prefix is not None:
        headers = {"X-Accel-Redirect": accel_path(prefix, sha256), "Cache-Control": CACHE_CONTROL}
        return Response(status_code=200, headers=headers, media_type=media_type)
    return None
