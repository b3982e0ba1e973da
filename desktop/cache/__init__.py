"""The local store: SQLite through SQLAlchemy 2 (Alembic owns the schema), the content-addressed
blob store, FTS5 search, and every query the services run. No Qt, no HTTP."""
