"""Runtime state shared by replicas: 👍/👎 feedback and chat-UI sessions, through SQLAlchemy 2.

One SQLite file under the data directory by default; a PostgreSQL database (psycopg 3) when
``ASSISTANT_DATABASE_URL`` is set, so that every replica sees the same rows. The schema is Alembic's
(``migrations/``), brought up to date the first time a process uses the database.
"""

from assistant.storage.db import Database, StorageUnavailable

__all__ = ["Database", "StorageUnavailable"]
