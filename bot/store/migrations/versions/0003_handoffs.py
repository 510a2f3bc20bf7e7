"""Hand-off and staff console (issue 5): staff, hand-offs, notes, canned replies

Revision ID: 0003
Revises: 0002

Also adds the default staffed hours (Mon-Fri 08:00-18:00, Sat 09:00-13:00) and a few canned
replies per language; both are the operator's to change in the console's admin page.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DEFAULT_HOURS = [
    (0, "08:00", "18:00"), (1, "08:00", "18:00"), (2, "08:00", "18:00"), (3, "08:00", "18:00"),
    (4, "08:00", "18:00"), (5, "09:00", "13:00"), (6, None, None),
]

DEFAULT_CANNED = [
    ("en", "Hello", "Hello, I am from the city help line. How can I help you?"),
    ("en", "One moment", "Thank you. Please give me a moment to check."),
    ("en", "Case number", "Can you send me your case number? It has 8 digits."),
    ("en", "Closing", "Can I help with anything else? If not, I will close this chat."),
    ("es", "Hola", "Hola, le escribe la ayuda de la ciudad. ¿En qué le puedo ayudar?"),
    ("es", "Un momento", "Gracias. Deme un momento para revisarlo."),
    ("es", "Número de caso", "¿Me puede enviar su referencia? Tiene 8 cifras."),
    ("es", "Cierre", "¿Le puedo ayudar con algo más? Si no, voy a cerrar este chat."),
    ("fr", "Bonjour", "Bonjour, ici la ligne d'aide de la ville. Comment puis-je vous aider ?"),
    ("fr", "Un instant", "Merci. Laissez-moi un instant pour regarder."),
    ("fr", "Numéro de dossier", "Pouvez-vous m'envoyer votre numéro de dossier ? Il a 8 chiffres."),
    ("fr", "Fin", "Puis-je vous aider pour autre chose ? Sinon, je vais fermer cette discussion."),
    ("ar", "ترحيب", "مرحبا، معك خط مساعدة المدينة. كيف أساعدك؟"),
    ("ar", "لحظة", "شكرا. أعطني لحظة لأتحقق."),
    ("ar", "رقم الملف", "هل يمكنك إرسال رقم ملفك؟ فيه 8 أرقام."),
    ("ar", "إنهاء", "هل تحتاج شيئا آخر؟ إن لم يكن، سأغلق هذه المحادثة."),
]


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_sessions_staff_id"), ["staff_id"],
                              unique=False)
    op.create_table(
        "staff_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("staff_login_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_login_failures_username"), ["username"],
                              unique=False)
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("contact_later", sa.Boolean(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["assignee_id"], ["staff_users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoffs_sender_id"), ["sender_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_handoffs_status"), ["status"], unique=False)
    op.create_table(
        "handoff_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoffs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handoff_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_notes_handoff_id"), ["handoff_id"],
                              unique=False)
    canned = op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("canned_replies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_canned_replies_language"), ["language"],
                              unique=False)
    hours = op.create_table(
        "staffed_hours",
        sa.Column("weekday", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("opens", sa.String(length=5), nullable=True),
        sa.Column("closes", sa.String(length=5), nullable=True),
        sa.PrimaryKeyConstraint("weekday"),
    )
    op.create_table(
        "staff_holidays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day"),
    )
    op.bulk_insert(hours, [{"weekday": d, "opens": o, "closes": c} for d, o, c in DEFAULT_HOURS])
    op.bulk_insert(canned, [{"language": lang, "title": title, "text": text}
                            for lang, title, text in DEFAULT_CANNED])


def downgrade() -> None:
    op.drop_table("staff_holidays")
    op.drop_table("staffed_hours")
    with op.batch_alter_table("canned_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_canned_replies_language"))
    op.drop_table("canned_replies")
    with op.batch_alter_table("handoff_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoff_notes_handoff_id"))
    op.drop_table("handoff_notes")
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoffs_status"))
        batch_op.drop_index(batch_op.f("ix_handoffs_sender_id"))
    op.drop_table("handoffs")
    with op.batch_alter_table("staff_login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_login_failures_username"))
    op.drop_table("staff_login_failures")
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_sessions_staff_id"))
    op.drop_table("staff_sessions")
    op.drop_table("staff_users")
