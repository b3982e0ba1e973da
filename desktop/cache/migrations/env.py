"""Alembic environment for the local cache.

The app passes an open connection (foreign keys already off) in
`config.attributes["connection"]`; developers run autogenerate with `-x db=PATH`.
"""

from alembic import context
from sqlalchemy import create_engine

from desktop.cache.models import Base

# FTS5 shadow tables are created by hand in migrations; autogenerate must not drop them.
FTS_PREFIX = "search_"


def include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and reflected and compare_to is None and name.startswith(FTS_PREFIX))


def run(connection):
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = "sqlite:///" + context.get_x_argument(as_dictionary=True)["db"]
    with create_engine(url).connect() as conn:
        run(conn)
