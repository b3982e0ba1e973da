"""search index: prefix indexes for 3- and 4-letter prefixes

A learner's last, still-being-typed word is searched as a prefix. Without a prefix index
FTS5 merges the lists of every word that starts with it: ~0.4 s for a common 4-letter
prefix over 1,000 activities' transcripts; with one, ~15 ms (tests/bench/bench_search.py).
FTS5 options cannot be altered, so the table is rebuilt with the same rows and rowids.
Titles of activities cached before the index existed (schema 0001) are added as well:
until now they were only indexed when a catalog was next applied.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = "activity_id UNINDEXED, kind UNINDEXED, time_ms UNINDEXED, body"
TOKENIZE = "tokenize = 'porter unicode61 remove_diacritics 2'"


def _rebuild(options: str) -> None:
    op.execute(f"CREATE VIRTUAL TABLE search_text_rebuilt USING fts5({COLUMNS}, {TOKENIZE}{options})")
    op.execute(
        "INSERT INTO search_text_rebuilt(rowid, activity_id, kind, time_ms, body) "
        "SELECT rowid, activity_id, kind, time_ms, body FROM search_text"
    )
    op.execute("DROP TABLE search_text")
    op.execute("ALTER TABLE search_text_rebuilt RENAME TO search_text")


# One row for the title and one for the description, as desktop/cache/search.py writes them.
BACKFILL_TITLES = """
INSERT INTO search_text(activity_id, kind, time_ms, body)
SELECT id, 'title', NULL, trim(text) FROM (
    SELECT id, title AS text, 0 AS part FROM activities
    UNION ALL SELECT id, description, 1 FROM activities
)
WHERE trim(text) != ''
  AND id NOT IN (SELECT activity_id FROM search_text WHERE kind = 'title')
ORDER BY id, part
"""


def upgrade() -> None:
    _rebuild(", prefix = '3 4'")
    op.execute(BACKFILL_TITLES)


def downgrade() -> None:
    _rebuild("")
