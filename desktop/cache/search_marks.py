"""Which words of a found row matched, marked by FTS5 itself, and the snippet around them.

Guessing in Python which words porter stemming joined (the old way: "starts with the query
word less three letters") marked "patients" for "PATINA". Instead the candidate rows are
put in a scratch FTS5 table with the index's own tokenizer, in a private in-memory
database, and FTS5's `highlight()` marks exactly the words the query matched: stems,
prefixes and near spellings alike. A few hundred short rows take 2-4 ms.

Each thread has its own scratch database (search runs on the task pool).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from desktop.cache.search_index import TOKENIZE

SNIPPET_OPEN = "["
SNIPPET_CLOSE = "]"
SNIPPET_ELLIPSIS = "…"
SNIPPET_TOKENS = 12

# Private-use characters mark matches inside this module; the brackets the UI turns into
# bold are only put in at the end, after brackets in the text itself are made round.
_OPEN, _CLOSE = "\ue000", "\ue001"
_PIECES = re.compile(f"({_OPEN}[^{_CLOSE}]*{_CLOSE}|\\w+)")
_MATCHED = re.compile(f"{_OPEN}([^{_CLOSE}]*){_CLOSE}")
_local = threading.local()


@dataclass(frozen=True)
class Marked:
    """A candidate row as FTS5 matched it."""

    body: str  # the row's text with each matched word between _OPEN and _CLOSE
    matched: tuple[str, ...]  # the matched words, as written in the row
    exact: bool  # it matches without near spellings
    words: int  # how many words the row has (split at spaces: for length normalisation)


def mark(rows: Sequence[tuple[int, str]], match: str, exact_match: str | None) -> dict[int, Marked]:
    """Mark (rowid, body) rows against `match`; `exact` says whether `exact_match` (None:
    the same) matches them too. Rows the expression does not match are left out."""
    conn = _scratch()
    # The table lives in one transaction, rolled back: FTS5 then builds its index once (in
    # autocommit it writes a segment per row), and nothing is left to delete (a DELETE
    # tokenizes every row again: 6-9 ms for 300 cues).
    conn.execute("BEGIN")
    conn.execute(f"CREATE VIRTUAL TABLE marks USING fts5(body, tokenize = '{TOKENIZE}')")
    try:
        conn.executemany("INSERT INTO marks (rowid, body) VALUES (?, ?)",
                         [(rowid, body.replace(_OPEN, "").replace(_CLOSE, "")) for rowid, body in rows])
        found = conn.execute(
            "SELECT rowid, highlight(marks, 0, ?, ?) FROM marks WHERE marks MATCH ?", (_OPEN, _CLOSE, match)
        ).fetchall()
        exact = (
            {rowid for (rowid,) in conn.execute("SELECT rowid FROM marks WHERE marks MATCH ?", (exact_match,))}
            if exact_match is not None else None
        )
    finally:
        conn.execute("ROLLBACK")
    out = {}
    for rowid, body in found:
        out[rowid] = Marked(
            body=body,
            matched=tuple(_MATCHED.findall(body)),
            exact=exact is None or rowid in exact,
            words=len(body.split()),
        )
    return out


def snippet(marked_body: str, width: int = SNIPPET_TOKENS) -> str:
    """About `width` words around the first match, matches in [brackets], `…` where cut."""
    body = marked_body.replace(SNIPPET_OPEN, "(").replace(SNIPPET_CLOSE, ")")
    parts = _PIECES.split(body)  # words (and marked words) at odd indexes
    words = list(range(1, len(parts), 2))
    if not words:
        return body.replace(_OPEN, "").replace(_CLOSE, "")[:200].strip()
    first = next((n for n, i in enumerate(words) if parts[i].startswith(_OPEN)), 0)
    start = max(0, first - width // 3)
    shown = words[start: start + width]
    text = "".join(parts[shown[0]: shown[-1] + 1]).strip()
    text = text.replace(_OPEN, SNIPPET_OPEN).replace(_CLOSE, SNIPPET_CLOSE)
    if start > 0:
        text = SNIPPET_ELLIPSIS + text
    if shown[-1] < words[-1]:
        text += SNIPPET_ELLIPSIS
    return text


def after_label(marked_body: str, label: str | None) -> str:
    """The marked body without its opening `label` (a summary's text starts with its own
    title, which the result already shows as its place), so the snippet does not say it twice.
    The body unchanged when it does not start with the label, or would be left empty."""
    if not label:
        return marked_body
    wanted = " ".join(label.split()).casefold()
    at, n, inside = 0, 0, False
    while n < len(wanted) and at < len(marked_body):
        ch = marked_body[at]
        if ch in (_OPEN, _CLOSE):
            inside = ch == _OPEN
        elif ch.casefold() == wanted[n] or (ch.isspace() and wanted[n] == " "):
            n += 1
            if ch.isspace():  # a run of spaces in the body is one in the label
                while at + 1 < len(marked_body) and marked_body[at + 1].isspace():
                    at += 1
        else:
            return marked_body
        at += 1
    while at < len(marked_body) and marked_body[at] == _CLOSE:
        inside, at = False, at + 1
    rest = marked_body[at:]
    if n < len(wanted) or inside or (rest[:1].isalnum()):  # not the whole label, or it ends mid-word
        return marked_body
    rest = rest.lstrip(" \t\n:—–-.")
    return rest if rest.strip(_OPEN + _CLOSE).strip() else marked_body


def _scratch() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(":memory:", isolation_level=None)
    return conn
