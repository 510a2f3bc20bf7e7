"""SQLAlchemy models: the whole of CivicLine's own data (Rasa's tracker store sits beside it).

Texts shown to citizens in several languages are JSON objects keyed by language code
(``{"en": "...", "es": "...", "fr": "...", "ar": "..."}``); :func:`bot.i18n.pick` reads them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


def utcnow() -> dt.datetime:
    """Timezone-naive UTC now: what every timestamp column stores."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


CASE_STATUSES = ("received", "in_review", "needs_information", "approved", "rejected", "completed")
SERVICE_STATUSES = ("operational", "disrupted", "down", "maintenance")


class Person(Base):
    """A citizen, known by phone number and/or Telegram user, with their sticky language."""

    __tablename__ = "people"

    id = Column(Integer, primary_key=True)
    phone = Column(String(20), unique=True, nullable=True)  # E.164
    telegram_user_id = Column(String(32), unique=True, nullable=True)
    external_id = Column(String(128), unique=True, nullable=True)  # other channels (REST, web)
    phone_verified = Column(Boolean, nullable=False, default=False)  # e.g. Telegram shared contact
    language = Column(String(2), nullable=True)
    language_explicit = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class Service(Base):
    """A public service whose running status citizens ask about (SPEC §5.2)."""

    __tablename__ = "services"

    id = Column(Integer, primary_key=True)
    slug = Column(String(64), unique=True, nullable=False)
    names = Column(JSON, nullable=False)  # {lang: name}
    keywords = Column(JSON, nullable=False, default=dict)  # {lang: [word, ...]} for matching
    status = Column(String(16), nullable=False, default="operational")
    message = Column(JSON, nullable=False, default=dict)  # {lang: text}
    updated_at = Column(DateTime, nullable=False, default=utcnow)


office_services = Table(
    "office_services",
    Base.metadata,
    Column("office_id", ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
)


class Office(Base):
    """A public office with weekly hours, holidays and the services it offers (SPEC §5.3)."""

    __tablename__ = "offices"

    id = Column(Integer, primary_key=True)
    slug = Column(String(64), unique=True, nullable=False)
    names = Column(JSON, nullable=False)
    address = Column(String(255), nullable=False)
    phone = Column(String(20), nullable=True)
    keywords = Column(JSON, nullable=False, default=dict)  # {lang: [other names people use]}
    # {"0": [["09:00", "17:00"]], ..., "6": []}: Monday is "0"; several ranges allowed.
    hours = Column(JSON, nullable=False, default=dict)
    services = relationship("Service", secondary=office_services, lazy="selectin")
    holidays = relationship(
        "OfficeHoliday", back_populates="office", lazy="selectin", cascade="all, delete-orphan"
    )


class OfficeHoliday(Base):
    __tablename__ = "office_holidays"
    __table_args__ = (UniqueConstraint("office_id", "day"),)

    id = Column(Integer, primary_key=True)
    office_id = Column(ForeignKey("offices.id", ondelete="CASCADE"), nullable=False)
    day = Column(Date, nullable=False)
    names = Column(JSON, nullable=False, default=dict)
    office = relationship("Office", back_populates="holidays")


class DigitalPlace(Base):
    """Free internet/computer access or a digital-skills class (SPEC §5.5)."""

    __tablename__ = "digital_places"

    id = Column(Integer, primary_key=True)
    slug = Column(String(64), unique=True, nullable=False)
    kind = Column(String(16), nullable=False)  # "access" (internet/computers) or "class"
    names = Column(JSON, nullable=False)
    address = Column(String(255), nullable=False)
    when = Column(JSON, nullable=False, default=dict)  # {lang: "Mon-Fri 9-6"}


class DigitalGuide(Base):
    """Step-by-step help with one common portal task, per language."""

    __tablename__ = "digital_guides"

    id = Column(Integer, primary_key=True)
    slug = Column(String(64), unique=True, nullable=False)
    titles = Column(JSON, nullable=False)
    keywords = Column(JSON, nullable=False, default=dict)  # {lang: [word, ...]}
    steps = Column(JSON, nullable=False)  # {lang: [step, ...]}


class Case(Base):
    """A citizen's application or request, known by its 8-digit Luhn reference (SPEC §5.1)."""

    __tablename__ = "cases"

    id = Column(Integer, primary_key=True)
    reference = Column(String(8), unique=True, nullable=False)
    service_id = Column(ForeignKey("services.id"), nullable=False)
    status = Column(String(24), nullable=False)
    phone = Column(String(20), nullable=True, index=True)
    date_of_birth = Column(Date, nullable=True)
    language = Column(String(2), nullable=False, default="en")
    detail = Column(Text, nullable=True)
    person_id = Column(ForeignKey("people.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    service = relationship("Service", lazy="joined")
    events = relationship(
        "CaseEvent", back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )


class CaseEvent(Base):
    """One status change of a case (the history; notifications hang off it later)."""

    __tablename__ = "case_events"

    id = Column(Integer, primary_key=True)
    case_id = Column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    from_status = Column(String(24), nullable=True)
    to_status = Column(String(24), nullable=False)
    note = Column(Text, nullable=True)
    actor = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    case = relationship("Case", back_populates="events")


class VerificationAttempt(Base):
    """Failed ownership checks of one reference by one person, and the lock they lead to."""

    __tablename__ = "verification_attempts"
    __table_args__ = (UniqueConstraint("person_id", "reference"),)

    id = Column(Integer, primary_key=True)
    person_id = Column(ForeignKey("people.id", ondelete="CASCADE"), nullable=False)
    reference = Column(String(8), nullable=False)
    failures = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime, nullable=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """Append-only record of every staff action and API write (SPEC §8)."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    actor = Column(String(64), nullable=False)
    action = Column(String(64), nullable=False)
    target = Column(String(128), nullable=True)
    detail = Column(JSON, nullable=False, default=dict)
