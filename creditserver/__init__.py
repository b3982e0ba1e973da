"""The reference credit server (FastAPI + SQLAlchemy): sign-in, catalog, media, completions
re-graded with cmecore.rules, certificates. Imports cmecore and itself only."""
