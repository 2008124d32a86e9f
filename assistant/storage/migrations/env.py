"""Alembic's environment: the migrations run on the connection ``Database.upgrade`` hands over, inside its
transaction and lock (there is no alembic.ini; the database URL is the application's)."""

from alembic import context

from assistant.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
