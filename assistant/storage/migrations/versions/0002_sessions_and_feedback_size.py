"""Chat-UI sessions and tabs shared by replicas, the secret of their tab ids, and each feedback row's size.

``feedback.size_bytes`` (the UTF-8 bytes of the row's text) is filled in for the rows already there, so
the size cap counts them too.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TEXT_COLUMNS = ("question", "history", "filters", "answer", "rating", "comment", "created_at")


def _size(row: sa.Row) -> int:
    return sum(len(str(value).encode("utf-8")) for value in row[1:] if value is not None)


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("feedback", sa.Column("size_bytes", sa.BigInteger, nullable=False, server_default="0"))
    sizes = []
    rows = bind.execute(sa.text(f"SELECT id, {', '.join(_TEXT_COLUMNS)} FROM feedback"))
    for batch in rows.partitions(500):
        sizes += [{"id": row[0], "size": _size(row)} for row in batch]
    if sizes:
        bind.execute(sa.text("UPDATE feedback SET size_bytes = :size WHERE id = :id"), sizes)
    op.create_index("ix_feedback_size_bytes", "feedback", ["size_bytes"])

    op.create_table(
        "ui_sessions",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(300), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("bucket", sa.String(300), nullable=False),
        sa.Column("keyed", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
    )
    op.create_index("ix_ui_sessions_owner", "ui_sessions", ["owner"])
    op.create_index("ix_ui_sessions_last_seen", "ui_sessions", ["last_seen"])
    op.create_table(
        "ui_tabs",
        sa.Column("tab_id", sa.String(64), primary_key=True),
        sa.Column(
            "session_digest",
            sa.String(64),
            sa.ForeignKey("ui_sessions.digest", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("last_used", sa.Float, nullable=False),
    )
    op.create_index("ix_ui_tabs_session_digest", "ui_tabs", ["session_digest"])
    op.create_table(
        "app_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("app_secrets")
    op.drop_table("ui_tabs")
    op.drop_table("ui_sessions")
    op.drop_index("ix_feedback_size_bytes", "feedback")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("size_bytes")
