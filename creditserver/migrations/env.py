"""Alembic environment for the credit server's database.

The server passes an open connection, already in its locked transaction, in
`config.attributes["connection"]` (creditserver/schema.py); developers run autogenerate
with `-x url=SQLALCHEMY_URL` (see creditserver/alembic.ini).
"""

from alembic import context
from sqlalchemy import create_engine

from creditserver.models import Base


def run(connection):
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = context.get_x_argument(as_dictionary=True)["url"]
    with create_engine(url).connect() as conn:
        run(conn)
        conn.commit()
