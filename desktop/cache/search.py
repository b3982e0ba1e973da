"""Full-text search over titles, summaries and transcript cues (SQLite FTS5).

The table `search_text(activity_id UNINDEXED, kind UNINDEXED, time_ms UNINDEXED, body)`
is created by migration 0002 (porter stemming, diacritics folded). Rows are written here:

- kind `title`: an activity's title and its description, a row each (from `apply_catalog`);
- kind `summary`: one row per activity, the plain text of its summaries;
- kind `transcript`: one row per cue, `time_ms` = the cue's start.

Each `index_*` call replaces the earlier rows of the same (activity, kind). The
downloads code calls `index_summary` / `index_transcript` after a verified download
(`desktop.media.transcript.parse_transcript` turns the bytes into cues).

Snippets mark matched words with `[` and `]` (SNIPPET_OPEN / SNIPPET_CLOSE) and elide
with `…`; the UI turns the brackets into bold. User text never reaches FTS5's query
syntax: each word becomes a quoted string (see `fts_query`), so quotes, AND/OR/NOT,
NEAR(, `-` or `*` typed by a user cannot raise a syntax error.

Deleting by activity scans the FTS table (UNINDEXED columns have no index), so
removals are batched: one statement per catalog apply, not one per activity.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import nh3
from sqlalchemy import text
from sqlalchemy.orm import Session

from desktop.cache.db import Database

KIND_TITLE = "title"
KIND_SUMMARY = "summary"
KIND_TRANSCRIPT = "transcript"
KINDS = (KIND_TITLE, KIND_SUMMARY, KIND_TRANSCRIPT)

SNIPPET_OPEN = "["
SNIPPET_CLOSE = "]"
SNIPPET_ELLIPSIS = "…"
SNIPPET_TOKENS = 12
# A query longer than this is almost certainly pasted text, not a search; cap its cost.
MAX_QUERY_WORDS = 12
# The last word is searched as a prefix only from this length on: a one- or two-letter
# prefix expands to thousands of terms and costs seconds on a large cache.
MIN_PREFIX_CHARS = 3

_WORD = re.compile(r"\w+", re.UNICODE)
_SPACES = re.compile(r"\s+")
# Before these tags a space is inserted so "<li>a</li><li>b</li>" gives "a b", not "ab".
_BLOCK_BOUNDARY = re.compile(
    r"<(?=/?(?:h[1-6]|p|br|hr|li|tr|td|th|dt|dd|pre|blockquote|table|caption|div)\b)", re.I
)


class CueLike(Protocol):
    start_ms: int
    text: str


@dataclass(frozen=True)
class SearchHit:
    activity_id: str
    activity_title: str
    kind: str  # title | summary | transcript
    time_ms: int | None  # the cue's start for transcript hits, else None
    snippet: str  # matched words between SNIPPET_OPEN and SNIPPET_CLOSE


# ---------------------------------------------------------------- writing

def index_titles(session: Session, activities: Iterable[tuple[str, str, str]]) -> None:
    """(Re)index many (activity_id, title, description) at once: one delete scan in all."""
    rows = list(activities)
    if not rows:
        return
    _delete_rows(session, [activity_id for activity_id, _, _ in rows], kind=KIND_TITLE)
    # Title and description go in separate rows: bm25 favours short rows, so a word in
    # the (short) title row outranks the same word in a transcript cue, while one buried
    # in a long description does not. `search` keeps one title-kind hit per activity.
    _insert_rows(
        session,
        [
            {"a": activity_id, "k": KIND_TITLE, "t": None, "b": body}
            for activity_id, title, description in rows
            for body in (title.strip(), description.strip())
            if body
        ],
    )


def index_summary(db: Database, activity_id: str, body: str) -> None:
    """Index an activity's summary text; HTML (e.g. `render_summary` output) is stripped.

    Several summaries of one activity: join their texts and call once, as each call
    replaces the activity's earlier summary rows.
    """
    with db.write() as session:
        index_summary_in(session, activity_id, body)


def index_summary_in(session: Session, activity_id: str, body: str) -> None:
    plain = html_to_text(body) if "<" in body else _SPACES.sub(" ", body).strip()
    _delete_rows(session, [activity_id], kind=KIND_SUMMARY)
    if plain:
        _insert_rows(session, [{"a": activity_id, "k": KIND_SUMMARY, "t": None, "b": plain}])


def index_transcript(db: Database, activity_id: str, cues: Sequence[CueLike]) -> None:
    """Index a transcript's cues (e.g. `parse_transcript(...).cues`), one row per cue."""
    with db.write() as session:
        index_transcript_in(session, activity_id, cues)


def index_transcript_in(session: Session, activity_id: str, cues: Sequence[CueLike]) -> None:
    _delete_rows(session, [activity_id], kind=KIND_TRANSCRIPT)
    _insert_rows(
        session,
        [
            {"a": activity_id, "k": KIND_TRANSCRIPT, "t": int(cue.start_ms), "b": cue.text}
            for cue in cues
            if cue.text.strip()
        ],
    )


def remove_activity(session: Session, activity_id: str) -> None:
    """Forget every row of an activity (it was withdrawn or deleted)."""
    _delete_rows(session, [activity_id], kind=None)


def remove_orphans(session: Session) -> None:
    """Forget rows whose activity is no longer cached (after bulk deletes of activities)."""
    session.execute(
        text("DELETE FROM search_text WHERE activity_id NOT IN (SELECT id FROM activities)")
    )


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment for the index: tags and scripts gone, words apart."""
    spaced = _BLOCK_BOUNDARY.sub(" <", fragment)
    stripped = nh3.clean(spaced, tags=set(), clean_content_tags={"script", "style"})
    return _SPACES.sub(" ", html.unescape(stripped)).strip()


def _delete_rows(session: Session, activity_ids: list[str], kind: str | None) -> None:
    # json_each takes any number of ids as one parameter (no SQLite variable limit).
    sql = "DELETE FROM search_text WHERE activity_id IN (SELECT value FROM json_each(:ids))"
    params: dict[str, object] = {"ids": json.dumps(activity_ids)}
    if kind is not None:
        sql += " AND kind = :kind"
        params["kind"] = kind
    session.execute(text(sql), params)


def _insert_rows(session: Session, rows: list[dict]) -> None:
    if rows:  # a list of parameter sets: SQLAlchemy runs it as one executemany
        session.execute(
            text("INSERT INTO search_text (activity_id, kind, time_ms, body) VALUES (:a, :k, :t, :b)"),
            rows,
        )


# ---------------------------------------------------------------- reading

# bm25 is computed for at most RANK_CANDIDATES matches: a word found in most cues (600,000
# rows in the benchmark) cost ~0.3-0.8 s to rank exactly. Rare and middling words (fewer
# matches than the cap) are ranked exactly; for very common words the best hits among the
# first matches are shown, which a learner cannot tell apart anyway.
RANK_CANDIDATES = 2_000
_SEARCH_SQL = text(
    """
    SELECT rid FROM (
        SELECT rowid AS rid, bm25(search_text) AS score
        FROM search_text WHERE search_text MATCH :match LIMIT :cap
    )
    ORDER BY score, rid
    LIMIT :limit
    """
)
# The shown rows' text, by rowid (no MATCH: FTS5 then seeks straight to each row, where
# snippet() would walk the whole match list again for every row shown).
_ROWS_SQL = text(
    "SELECT rowid, activity_id, kind, time_ms, body FROM search_text "
    "WHERE rowid IN (SELECT value FROM json_each(:rids))"
)
_TITLES_SQL = text("SELECT id, title FROM activities WHERE id IN (SELECT value FROM json_each(:ids))")


def make_snippet(body: str, words: list[str], width: int = SNIPPET_TOKENS) -> str:
    """About `width` words of `body` around the first match, matches in [brackets].

    FTS5 matched stems (porter), so a word matches here when it starts with the query
    word less a short ending ("monitoring" marks "monitored"); the last query word is a
    prefix, as in the search itself.
    """
    stems = [w.casefold()[: max(MIN_PREFIX_CHARS, len(w) - 3)] for w in words]
    parts = re.split(r"(\w+)", body)  # words at odd indexes, what lies between at even ones
    hits = [i for i in range(1, len(parts), 2) if parts[i].casefold().startswith(tuple(stems))]
    word_indexes = list(range(1, len(parts), 2))
    if not word_indexes:
        return body[:200]
    first = word_indexes.index(hits[0]) if hits else 0
    start = max(0, first - width // 3)
    shown = word_indexes[start : start + width]
    out = []
    for i in range(shown[0], shown[-1] + 1):
        piece = parts[i]
        out.append(f"{SNIPPET_OPEN}{piece}{SNIPPET_CLOSE}" if i in hits else piece)
    text_ = "".join(out).strip()
    if start > 0:
        text_ = SNIPPET_ELLIPSIS + text_
    if shown[-1] < word_indexes[-1]:
        text_ += SNIPPET_ELLIPSIS
    return text_


def fts_query(user_text: str) -> str | None:
    """A safe FTS5 MATCH expression for what a user typed, or None if it has no words.

    Every word is quoted (so FTS5 operators in user text are just words) and all must
    match; the last gets a prefix `*` (from MIN_PREFIX_CHARS letters on) so results appear
    while the user is still typing.
    """
    words = _WORD.findall(user_text)[:MAX_QUERY_WORDS]
    if not words:
        return None
    quoted = [f'"{word}"' for word in words]  # \w+ never contains a double quote
    if len(words[-1]) >= MIN_PREFIX_CHARS:
        quoted[-1] += "*"
    return " ".join(quoted)


def search(db: Database, query: str, limit: int = 50) -> list[SearchHit]:
    """Best matches first (bm25); [] for a query with no words.

    Ranking is plain bm25: it favours short rows, so a word in an activity's title
    (one short row) outranks the same word in a longer transcript cue or summary. A
    per-kind boost was tried and dropped: reading `kind` for every match tripled the
    cost of common words (tests/bench/bench_search.py).
    """
    match = fts_query(query)
    if match is None or limit <= 0:
        return []
    # Anything computed per match (a join, reading `kind` for a boost) multiplied the
    # cost of common words (bench_search), hence the two steps below.
    with db.read() as session:
        best = session.scalars(_SEARCH_SQL, {"match": match, "limit": limit, "cap": RANK_CANDIDATES}).all()
        found = {r[0]: r[1:] for r in session.execute(_ROWS_SQL, {"rids": json.dumps(list(best))})}
        words = _WORD.findall(query)[:MAX_QUERY_WORDS]
        rows = [(*found[rid][:3], make_snippet(found[rid][3], words)) for rid in best if rid in found]
        ids = sorted({row[0] for row in rows})
        titles = dict(session.execute(_TITLES_SQL, {"ids": json.dumps(ids)}).all()) if ids else {}
    hits = []
    titled: set[str] = set()
    for activity_id, kind, time_ms, snippet in rows:
        title = titles.get(activity_id)
        if title is None:
            continue  # a row left behind by an activity no longer cached
        if kind == KIND_TITLE:
            if activity_id in titled:
                continue  # the description row after the title row: one front-matter hit
            titled.add(activity_id)
        hits.append(SearchHit(
            activity_id=activity_id,
            activity_title=title,
            kind=kind,
            time_ms=int(time_ms) if time_ms is not None and kind == KIND_TRANSCRIPT else None,
            snippet=snippet,
        ))
    return hits
