"""Full-text search over titles, descriptions, summaries and transcript cues (SQLite FTS5).

The index is written by `desktop.cache.search_index` (re-exported here): front matter in
`search_text`, cues in `search_cues`, the vocabulary with per-word row counts in
`search_words`. User text never reaches FTS5's query syntax (`search_terms`): each word
is quoted, so quotes, AND/OR/NOT, NEAR(, `-` or `*` typed by a user cannot raise.

How a search runs, and why (tests/bench/bench_search.py has the figures):

1. The typed words become MATCH expressions, widened from the vocabulary: completions of
   the word being typed, near spellings of long words (`search_terms`).
2. From each table, at most CANDIDATES matching rows are read, without FTS5's bm25: bm25
   counts every row holding each word before it scores one, which for a word said in most
   cues is tens of milliseconds. A word found in fewer rows is ranked over all of them.
3. The candidates are marked by FTS5 itself (`search_marks`) and scored like bm25 (term
   frequency saturating, shorter rows favoured), each matched word weighed by its rarity
   from `search_words`' counts.
4. Order: rows matching every word exactly first, near spellings after; within each,
   titles, then descriptions, then summaries, then transcript cues, then by score. An activity whose title matched shows no description hit.

Snippets mark matched words with `[` and `]` (SNIPPET_OPEN / SNIPPET_CLOSE) and elide
with `…`; the UI turns the brackets into bold. A summary's text opens with its own title,
which is indexed (its words are found) but left out of the snippet: the hit's label shows it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from sqlalchemy import text

from desktop.cache.db import Database
from desktop.cache.search_index import (
    FRONT_MATTER_KINDS,
    KIND_DESCRIPTION,
    KIND_SUMMARY,
    KIND_TITLE,
    KIND_TRANSCRIPT,
    KINDS,
    html_to_text,
    index_summaries,
    index_summaries_in,
    index_summary,
    index_titles,
    index_transcript,
    index_transcript_in,
    remove_activity,
    remove_orphans,
    fold,
)
from desktop.cache.search_marks import SNIPPET_CLOSE, SNIPPET_ELLIPSIS, SNIPPET_OPEN, Marked, after_label, mark, snippet
from desktop.cache.search_terms import MAX_QUERY_WORDS, MIN_PREFIX_CHARS, Query, build_query, fts_query

# One import for callers: reading here, the index's writers and the snippet markers re-exported.
__all__ = [
    "FRONT_MATTER_KINDS", "KINDS", "KIND_DESCRIPTION", "KIND_SUMMARY", "KIND_TITLE", "KIND_TRANSCRIPT",
    "MAX_QUERY_WORDS", "MIN_PREFIX_CHARS", "SNIPPET_CLOSE", "SNIPPET_ELLIPSIS", "SNIPPET_OPEN", "SearchHit",
    "fts_query", "html_to_text", "index_summaries", "index_summaries_in", "index_summary", "index_titles",
    "index_transcript", "index_transcript_in", "remove_activity", "remove_orphans", "search",
]

# Matching rows read per table. A word found in fewer rows is ranked over all its rows;
# for a word in most cues, the best of the first CANDIDATES are shown, which a learner
# cannot tell apart anyway.
CANDIDATES = 200
# bm25's constants (FTS5's own) and the row count rarity is measured against: any large
# number serves, only the ratio between two words' weights matters.
K1, B = 1.2, 0.75
CORPUS_ROWS = 1_000_000


@dataclass(frozen=True)
class SearchHit:
    activity_id: str
    activity_title: str
    kind: str  # title | description | summary | transcript (services.library adds `locked`)
    time_ms: int | None  # the cue's start for transcript hits, else None
    snippet: str  # matched words between SNIPPET_OPEN and SNIPPET_CLOSE
    label: str | None = None  # summary hits: that summary's title (None if it has none)
    near: bool = False  # matched only through a near spelling of a typed word


@dataclass(frozen=True)
class _Row:
    rowid: int
    activity_id: str
    kind: str
    time_ms: int | None
    label: str | None


_CANDIDATES_SQL = {
    table: text(f"SELECT rowid FROM {table} WHERE {table} MATCH :match LIMIT :cap")
    for table in ("search_text", "search_cues")
}
_ROWS_SQL = {
    "search_text": text(
        "SELECT rowid, activity_id, kind, NULL, label, body FROM search_text "
        "WHERE rowid IN (SELECT value FROM json_each(:rids))"
    ),
    "search_cues": text(
        f"SELECT rowid, activity_id, '{KIND_TRANSCRIPT}', time_ms, NULL, body FROM search_cues "
        "WHERE rowid IN (SELECT value FROM json_each(:rids))"
    ),
}
_COUNTS_SQL = text("SELECT word, rows FROM search_words WHERE word IN (SELECT value FROM json_each(:words))")
_TITLES_SQL = text("SELECT id, title FROM activities WHERE id IN (SELECT value FROM json_each(:ids))")


# An activity's title first (its description is then dropped), its summaries, the talk itself.
_KIND_ORDER = {KIND_TITLE: 0, KIND_DESCRIPTION: 1, KIND_SUMMARY: 2, KIND_TRANSCRIPT: 3}


def search(db: Database, query: str, limit: int = 50) -> list[SearchHit]:
    """Best matches first (see the module docstring); [] for a query with no words."""
    if limit <= 0:
        return []
    with db.read() as session:
        parsed = build_query(session, query)
        if parsed is None:
            return []
        found: list[tuple[_Row, Marked]] = []
        for table in ("search_text", "search_cues"):
            found += _candidates(session, table, parsed)
        counts = _word_counts(session, found)
        ids = sorted({row.activity_id for row, _ in found})
        titles = dict(session.execute(_TITLES_SQL, {"ids": json.dumps(ids)}).all()) if ids else {}
    averages = {kind: _average_words(found, kind == KIND_TRANSCRIPT) for kind in KINDS}
    ranked = sorted(
        found,
        key=lambda item: (
            not item[1].exact,
            _KIND_ORDER[item[0].kind],  # what the activity is called, then what it says, then when it was said
            -_score(item[1], counts, averages[item[0].kind]),
            item[0].rowid,
        ),
    )
    hits: list[SearchHit] = []
    titled: set[str] = set()
    for row, marked in ranked:
        title = titles.get(row.activity_id)
        if title is None:
            continue  # a row left behind by an activity no longer cached
        if row.kind in (KIND_TITLE, KIND_DESCRIPTION):
            if row.activity_id in titled:
                continue  # the title says what the activity is about; its description adds nothing
            titled.add(row.activity_id)
        hits.append(SearchHit(
            activity_id=row.activity_id,
            activity_title=title,
            kind=row.kind,
            time_ms=int(row.time_ms) if row.time_ms is not None else None,
            snippet=snippet(after_label(marked.body, row.label) if row.kind == KIND_SUMMARY else marked.body),
            label=row.label,
            near=not marked.exact,
        ))
        if len(hits) == limit:
            break
    return hits


def _candidates(session, table: str, query: Query) -> list[tuple[_Row, Marked]]:
    rids = session.scalars(_CANDIDATES_SQL[table], {"match": query.full, "cap": CANDIDATES}).all()
    if not rids:
        return []
    rows = session.execute(_ROWS_SQL[table], {"rids": json.dumps(list(rids))}).all()
    marked = mark([(r[0], r[5]) for r in rows], query.full, query.exact if query.has_near else None)
    return [(_Row(*r[:5]), marked[r[0]]) for r in rows if r[0] in marked]


def _word_counts(session, found: list[tuple[_Row, Marked]]) -> dict[str, int]:
    words = sorted({fold(w) for _, marked in found for w in marked.matched})
    if not words:
        return {}
    return dict(session.execute(_COUNTS_SQL, {"words": json.dumps(words)}).all())


def _average_words(found: list[tuple[_Row, Marked]], cues: bool) -> float:
    sizes = [marked.words for row, marked in found if (row.kind == KIND_TRANSCRIPT) == cues]
    return max(1.0, sum(sizes) / len(sizes)) if sizes else 1.0


def _score(marked: Marked, counts: dict[str, int], average_words: float) -> float:
    """bm25's shape: each matched word's weight (rarer: higher) times its saturating frequency."""
    frequency: dict[str, int] = {}
    for word in marked.matched:
        key = fold(word)
        frequency[key] = frequency.get(key, 0) + 1
    norm = K1 * (1 - B + B * marked.words / average_words)
    return sum(
        math.log(1 + CORPUS_ROWS / max(1, counts.get(word, 1))) * tf * (K1 + 1) / (tf + norm)
        for word, tf in frequency.items()
    )
