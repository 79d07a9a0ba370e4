"""enterprise gift receipts (placeholder written by the lead; the #5 helper fills it in)

Revision ID: 5b2d7e9c1a30
Revises: 4e8a1f0c2b77
Create Date: 2026-11-26 02:00:00
"""

revision = "5b2d7e9c1a30"
down_revision = "4e8a1f0c2b77"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
