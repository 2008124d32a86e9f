"""The feedback table as the releases before Alembic created it in feedback.sqlite3.

A file from those releases already has the table (and its rows): it is kept as it is, and this revision
only records that the file is at the first version.

Revision ID: 0001
Revises: —
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("feedback"):
        return
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("history", sa.Text, nullable=False, server_default="[]"),
        sa.Column("filters", sa.Text),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("rating", sa.Text, sa.CheckConstraint("rating IN ('up', 'down')"), nullable=False),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("feedback")
