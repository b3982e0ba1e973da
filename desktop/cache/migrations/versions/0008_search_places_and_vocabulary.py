"""search index: where a hit is (a row per summary, descriptions apart), cues apart, a vocabulary

Search hits now say where they are ("Summary: <its title>", "Description", "Title", a
transcript time), so front matter gets a `label` column and its own kinds; transcript
cues move to their own table so a word said everywhere cannot crowd titles out of the
candidates; `search_words` lists every indexed word with the number of rows holding it
(completing the word being typed, near spellings of long words, and rare words weighed
above common ones without FTS5 counting a common word's rows: tens of milliseconds), and
`search_vocabulary.version` changes with it so searches may cache it.

The contents are rebuilt here so an upgraded cache searches as a new one does: titles and
descriptions from `activities`, cues moved as they are (an activity's together, its rowid
span in `search_cue_spans`), the vocabulary counted from both.
Summaries were one joined row per activity; that row is kept, labelled with the summary's
title when the activity has a single summary (else unlabelled, shown as "Summary", until
the summaries are next indexed).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import re
import unicodedata
from collections import Counter

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TOKENIZE = "tokenize = 'porter unicode61 remove_diacritics 2', prefix = '3 4'"
_WORD = re.compile(r"\w+", re.UNICODE)
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _words(text):
    # As desktop/cache/search_index.py `words_of` folds them (copied: a migration is frozen).
    folded = text.casefold()
    if not folded.isascii():
        folded = _COMBINING.sub("", unicodedata.normalize("NFKD", folded))
    return set(_WORD.findall(folded))


def upgrade() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE search_front USING fts5("
        f"activity_id UNINDEXED, kind UNINDEXED, label UNINDEXED, body, {TOKENIZE})"
    )
    op.execute(
        f"CREATE VIRTUAL TABLE search_cues USING fts5(activity_id UNINDEXED, time_ms UNINDEXED, body, {TOKENIZE})"
    )
    op.execute(
        "CREATE TABLE search_words (word TEXT PRIMARY KEY, length INTEGER NOT NULL, rows INTEGER NOT NULL) "
        "WITHOUT ROWID"
    )
    op.execute("CREATE INDEX ix_search_words_length ON search_words (length)")
    # Bumped by every change to search_words: searches cache the long words until it moves.
    op.execute("CREATE TABLE search_vocabulary (version INTEGER NOT NULL)")
    op.execute("INSERT INTO search_vocabulary (version) VALUES (0)")
    # An activity's cues get consecutive rowids, kept as its span: replacing a transcript
    # then deletes a rowid range instead of scanning every cue for its activity.
    op.execute(
        "CREATE TABLE search_cue_spans (activity_id TEXT PRIMARY KEY, first_rowid INTEGER NOT NULL, "
        "last_rowid INTEGER NOT NULL)"
    )
    op.execute(
        "INSERT INTO search_cues (activity_id, time_ms, body) "
        "SELECT activity_id, time_ms, body FROM search_text WHERE kind = 'transcript' "
        "AND activity_id IN (SELECT id FROM activities) ORDER BY activity_id, rowid"
    )
    op.execute(
        "INSERT INTO search_cue_spans (activity_id, first_rowid, last_rowid) "
        "SELECT activity_id, min(rowid), max(rowid) FROM search_cues GROUP BY activity_id"
    )
    op.execute(
        "INSERT INTO search_front (activity_id, kind, label, body) "
        "SELECT id, kind, NULL, trim(text) FROM ("
        "  SELECT id, 'title' AS kind, title AS text FROM activities"
        "  UNION ALL SELECT id, 'description', description FROM activities"
        ") WHERE trim(text) != '' ORDER BY id, kind DESC"
    )
    op.execute(
        "INSERT INTO search_front (activity_id, kind, label, body) "
        "SELECT s.activity_id, 'summary', "
        "  (SELECT CASE WHEN count(*) = 1 THEN max(nullif(a.title, '')) END FROM assets a "
        "   WHERE a.activity_id = s.activity_id AND a.kind = 'summary'), s.body "
        "FROM search_text s WHERE s.kind = 'summary' AND s.activity_id IN (SELECT id FROM activities)"
    )
    op.execute("DROP TABLE search_text")
    op.execute("ALTER TABLE search_front RENAME TO search_text")

    counts = Counter()
    conn = op.get_bind()
    for table in ("search_text", "search_cues"):
        for (body,) in conn.exec_driver_sql(f"SELECT body FROM {table}"):
            counts.update(_words(body or ""))
    if counts:
        conn.exec_driver_sql(
            "INSERT INTO search_words (word, length, rows) VALUES (?, ?, ?)",
            [(word, len(word), n) for word, n in counts.items()],
        )


def downgrade() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE search_old USING fts5("
        f"activity_id UNINDEXED, kind UNINDEXED, time_ms UNINDEXED, body, {TOKENIZE})"
    )
    op.execute(
        "INSERT INTO search_old (activity_id, kind, time_ms, body) "
        "SELECT activity_id, CASE kind WHEN 'description' THEN 'title' ELSE kind END, NULL, body FROM search_text"
    )
    op.execute(
        "INSERT INTO search_old (activity_id, kind, time_ms, body) "
        "SELECT activity_id, 'transcript', time_ms, body FROM search_cues"
    )
    op.execute("DROP TABLE search_text")
    op.execute("DROP TABLE search_cues")
    op.execute("DROP TABLE search_words")
    op.execute("DROP TABLE search_vocabulary")
    op.execute("DROP TABLE search_cue_spans")
    op.execute("ALTER TABLE search_old RENAME TO search_text")
