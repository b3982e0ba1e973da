"""Writing the search index: front matter, transcript cues, and the vocabulary of both.

Three tables (migration 0008), all tokenized as TOKENIZE says:

- `search_text(activity_id, kind, label, body)`: an activity's front matter, a row each for
  its title (kind `title`), its description (`description`) and each summary (`summary`,
  `label` = the summary's title). Small (a few rows per activity), so it is always ranked
  in full.
- `search_cues(activity_id, time_ms, body)`: one row per transcript cue, `time_ms` = the
  cue's start. Hundreds of thousands of rows on a full cache; kept apart so a common word
  in the transcripts never pushes a title out of the first candidates. An activity's cues
  have consecutive rowids, recorded in `search_cue_spans`, so replacing one transcript
  needs no scan of all the others.
- `search_words(word, length, rows)`: every indexed word (case and accents folded as the tokenizer
  folds them) with the number of rows that hold it. Search reads it to complete the word
  being typed, to find near spellings of long words, and to weigh rare words above common
  ones without asking FTS5 to count a common word's rows (tens of milliseconds).
  `search_vocabulary.version` goes up with every change, so readers may cache it.

Each `index_*` call replaces the earlier rows of the same (activity, kind). The downloads
code calls `index_summaries` / `index_transcript` after a verified download.

Deleting front matter by activity scans `search_text` (UNINDEXED columns have no index),
so its removals are batched: one scan per catalog apply, not one per activity.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session

from desktop.cache.db import Database

KIND_TITLE = "title"
KIND_DESCRIPTION = "description"
KIND_SUMMARY = "summary"
KIND_TRANSCRIPT = "transcript"
KINDS = (KIND_TITLE, KIND_DESCRIPTION, KIND_SUMMARY, KIND_TRANSCRIPT)
FRONT_MATTER_KINDS = (KIND_TITLE, KIND_DESCRIPTION, KIND_SUMMARY)

# How every search table (and the snippet marker's scratch table) splits and folds words.
TOKENIZE = "porter unicode61 remove_diacritics 2"

_WORD = re.compile(r"\w+", re.UNICODE)
_SPACES = re.compile(r"\s+")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Before these tags a space is inserted so "<li>a</li><li>b</li>" gives "a b", not "ab".
_BLOCK_BOUNDARY = re.compile(
    r"<(?=/?(?:h[1-6]|p|br|hr|li|tr|td|th|dt|dd|pre|blockquote|table|caption|div)\b)", re.I
)


class CueLike(Protocol):
    start_ms: int
    text: str


def fold(text_: str) -> str:
    """Lower case without accents, as the tokenizer folds words ("Ménière" -> "meniere")."""
    folded = text_.casefold()
    if folded.isascii():
        return folded
    return _COMBINING.sub("", unicodedata.normalize("NFKD", folded))


def words_of(text_: str) -> list[str]:
    """The folded words of a text, in order (the vocabulary's notion of a word)."""
    return _WORD.findall(fold(text_))


# ---------------------------------------------------------------- front matter

def index_titles(session: Session, activities: Iterable[tuple[str, str, str]]) -> None:
    """(Re)index many (activity_id, title, description) at once: one delete scan in all."""
    rows = list(activities)
    if not rows:
        return
    _delete_front_matter(session, [activity_id for activity_id, _, _ in rows], (KIND_TITLE, KIND_DESCRIPTION))
    _insert_front_matter(session, [
        (activity_id, kind, None, body.strip())
        for activity_id, title, description in rows
        for kind, body in ((KIND_TITLE, title), (KIND_DESCRIPTION, description))
        if body.strip()
    ])


def index_summaries(db: Database, activity_id: str, summaries: Sequence[tuple[str, str]]) -> None:
    """Index an activity's summaries, (title, text) each, a row per summary.

    HTML (e.g. `render_summary` output) is stripped. Each call replaces the activity's
    earlier summary rows, so pass every summary present.
    """
    with db.write() as session:
        index_summaries_in(session, activity_id, summaries)


def index_summaries_in(session: Session, activity_id: str, summaries: Sequence[tuple[str, str]]) -> None:
    _delete_front_matter(session, [activity_id], (KIND_SUMMARY,))
    rows = []
    for title, body in summaries:
        plain = html_to_text(body) if "<" in body else _SPACES.sub(" ", body).strip()
        if plain:
            rows.append((activity_id, KIND_SUMMARY, title.strip() or None, plain))
    _insert_front_matter(session, rows)


def index_summary(db: Database, activity_id: str, body: str) -> None:
    """One untitled summary text (all of an activity's summaries joined, say)."""
    index_summaries(db, activity_id, [("", body)])


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment for the index: tags and scripts gone, words apart."""
    import nh3  # memory: loaded when a summary is indexed, not with every reader of the cache

    spaced = _BLOCK_BOUNDARY.sub(" <", fragment)
    stripped = nh3.clean(spaced, tags=set(), clean_content_tags={"script", "style"})
    return _SPACES.sub(" ", html.unescape(stripped)).strip()


# ---------------------------------------------------------------- transcripts

def index_transcript(db: Database, activity_id: str, cues: Sequence[CueLike]) -> None:
    """Index a transcript's cues (e.g. `parse_transcript(...).cues`), one row per cue."""
    with db.write() as session:
        index_transcript_in(session, activity_id, cues)


def index_transcript_in(session: Session, activity_id: str, cues: Sequence[CueLike]) -> None:
    _delete_cues(session, [activity_id])
    texts = [(int(cue.start_ms), cue.text) for cue in cues if cue.text.strip()]
    if not texts:
        return
    # Explicit, consecutive rowids: the activity's span, so it is replaced without a scan.
    first = (session.execute(text("SELECT max(rowid) FROM search_cues")).scalar() or 0) + 1
    session.execute(  # a list of parameter sets: SQLAlchemy runs it as one executemany
        text("INSERT INTO search_cues (rowid, activity_id, time_ms, body) VALUES (:r, :a, :t, :b)"),
        [{"r": first + n, "a": activity_id, "t": start_ms, "b": body} for n, (start_ms, body) in enumerate(texts)],
    )
    session.execute(
        text("INSERT INTO search_cue_spans (activity_id, first_rowid, last_rowid) VALUES (:a, :f, :l)"),
        {"a": activity_id, "f": first, "l": first + len(texts) - 1},
    )
    _count_words(session, (body for _, body in texts), +1)


# ---------------------------------------------------------------- removing

def remove_activity(session: Session, activity_id: str) -> None:
    """Forget every row of an activity (it was withdrawn or deleted)."""
    _delete(session, "search_text", "activity_id IN (SELECT value FROM json_each(:ids))",
            {"ids": json.dumps([activity_id])})
    _delete_cues(session, [activity_id])


def remove_orphans(session: Session) -> None:
    """Forget rows whose activity is no longer cached (after bulk deletes of activities)."""
    _delete(session, "search_text", "activity_id NOT IN (SELECT id FROM activities)", {})
    orphans = session.scalars(
        text("SELECT activity_id FROM search_cue_spans WHERE activity_id NOT IN (SELECT id FROM activities)")
    ).all()
    _delete_cues(session, list(orphans))


# ---------------------------------------------------------------- rows and words

def _delete_front_matter(session: Session, activity_ids: list[str], kinds: tuple[str, ...]) -> None:
    # json_each takes any number of ids as one parameter (no SQLite variable limit).
    _delete(session, "search_text",
            "activity_id IN (SELECT value FROM json_each(:ids)) AND kind IN (SELECT value FROM json_each(:kinds))",
            {"ids": json.dumps(activity_ids), "kinds": json.dumps(list(kinds))})


def _delete_cues(session: Session, activity_ids: list[str]) -> None:
    """Delete the activities' cues by their rowid spans (FTS5 seeks a rowid range; a
    condition on `activity_id` would read every cue of every activity)."""
    spans = session.execute(
        text("SELECT first_rowid, last_rowid FROM search_cue_spans "
             "WHERE activity_id IN (SELECT value FROM json_each(:ids))"),
        {"ids": json.dumps(activity_ids)},
    ).all()
    for first, last in spans:
        _delete(session, "search_cues", "rowid BETWEEN :first AND :last", {"first": first, "last": last})
    if spans:
        session.execute(text("DELETE FROM search_cue_spans WHERE activity_id IN (SELECT value FROM json_each(:ids))"),
                        {"ids": json.dumps(activity_ids)})


def _delete(session: Session, table: str, where: str, params: dict) -> None:
    """Delete the rows `where` selects, taking their words out of the vocabulary's counts."""
    gone = session.execute(text(f"SELECT rowid, body FROM {table} WHERE {where}"), params).all()
    if not gone:
        return
    session.execute(text(f"DELETE FROM {table} WHERE rowid IN (SELECT value FROM json_each(:rids))"),
                    {"rids": json.dumps([rowid for rowid, _ in gone])})
    _count_words(session, (body for _, body in gone), -1)


def _insert_front_matter(session: Session, rows: list[tuple[str, str, str | None, str]]) -> None:
    if rows:
        session.execute(
            text("INSERT INTO search_text (activity_id, kind, label, body) VALUES (:a, :k, :l, :b)"),
            [{"a": a, "k": k, "l": label, "b": b} for a, k, label, b in rows],
        )
        _count_words(session, (row[3] for row in rows), +1)


def _count_words(session: Session, bodies: Iterable[str], sign: int) -> None:
    """Add (sign +1) or take away (-1) the rows these bodies hold from each word's count."""
    counts: Counter[str] = Counter()
    for body in bodies:
        counts.update(set(words_of(body)))
    if not counts:
        return
    changes = [{"w": word, "l": len(word), "n": sign * n} for word, n in counts.items()]
    session.execute(
        text("INSERT INTO search_words (word, length, rows) VALUES (:w, :l, :n) "
             "ON CONFLICT(word) DO UPDATE SET rows = rows + excluded.rows"),
        changes,
    )
    session.execute(text("UPDATE search_vocabulary SET version = version + 1"))
    if sign < 0:
        session.execute(text("DELETE FROM search_words WHERE rows <= 0 AND word IN (SELECT value FROM json_each(:w))"),
                        {"w": json.dumps(list(counts))})
