"""The tables, as SQLAlchemy Core objects for the stores' queries (the migrations create them).

* ``feedback`` — one 👍/👎 per row (``assistant.web.feedback``); ``size_bytes`` is the UTF-8 size of the
  row's text, summed for the size cap (an index makes the sum an index-only scan).
* ``ui_sessions`` / ``ui_tabs`` — chat-UI sessions by the SHA-256 of their id, with the client that owns
  them (``owner``: its key, or its address) for the per-client quotas, and their Gradio tabs.
* ``app_secrets`` — secrets every replica must share (the key that derives Gradio tab ids).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question", Text, nullable=False),
    Column("history", Text, nullable=False, server_default="[]"),
    Column("filters", Text),
    Column("answer", Text, nullable=False),
    Column("rating", Text, CheckConstraint("rating IN ('up', 'down')"), nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("created_at", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False, server_default="0", index=True),
    sqlite_autoincrement=True,  # ids are never reused: exported cases are named after them
)

ui_sessions = Table(
    "ui_sessions",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("owner", String(300), nullable=False, index=True),
    Column("label", String(200), nullable=False),
    Column("bucket", String(300), nullable=False),
    Column("keyed", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_seen", Float, nullable=False, index=True),
)

ui_tabs = Table(
    "ui_tabs",
    metadata,
    Column("tab_id", String(64), primary_key=True),
    Column(
        "session_digest",
        String(64),
        ForeignKey("ui_sessions.digest", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("last_used", Float, nullable=False),
)

app_secrets = Table(
    "app_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)
