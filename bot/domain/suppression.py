"""SMS opt-out suppressions: what an erasure keeps of a person who had opted out (SPEC §8).

Erasing a person (bot.domain.retention) deletes their row, and with it their ``sms_opted_out``
flag. So
that an erased number still gets no SMS, the erasure leaves one row here: a hash of the E.164
phone, nothing else. When someone writes from that number again, :func:`apply` creates them
already opted out (they text START to opt back in) and the row is consumed: from then on the
person's own flag holds the opt-out.

The hash is HMAC-SHA256 keyed with ``CIVICLINE_SUPPRESSION_KEY`` (environment or `.env`). Phone
numbers are few enough (about 10^10 per country) that a plain hash is reversed by trying them
all; the key, kept outside the database, stops that for anyone who has only a copy of the
database. The key must stay the same for the life of the data: a row made under another key no
longer matches. It is its own setting, not ``CIVICLINE_SESSION_SECRET``, because rotating the
session secret (logging every console user out) must not silently forget opt-outs. Without the
key (development), rows are hashed with a fixed, public key: that only hides the number from a
casual reader. Look-ups try both, so setting the key later keeps the older rows working.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.config import STABLE_SECRET_NAMES, get_settings
from bot.store.models import OptOutSuppression, Person, utcnow

[KEY_NAME] = STABLE_SECRET_NAMES  # CIVICLINE_SUPPRESSION_KEY
UNKEYED = b"civicline-opt-out-suppression-v1"  # public: used only when no key is set


def secret_key() -> str:
    """The suppression key (``CIVICLINE_SUPPRESSION_KEY``); "" when unset."""
    return get_settings().suppression_key


def _digest(key: bytes, phone: str) -> str:
    return hmac.new(key, phone.encode("utf-8"), hashlib.sha256).hexdigest()


def phone_hash(phone: str) -> str:
    """The hash a new suppression row gets for an E.164 ``phone``."""
    key = secret_key()
    return _digest(key.encode("utf-8") if key else UNKEYED, phone)


def candidate_hashes(phone: str) -> list[str]:
    """Every hash a row for ``phone`` may carry: under the key, and the unkeyed one."""
    hashes = [phone_hash(phone)]
    unkeyed = _digest(UNKEYED, phone)
    return hashes if unkeyed in hashes else [*hashes, unkeyed]


def is_suppressed(session: Session, phone: str) -> bool:
    return session.scalar(select(OptOutSuppression.id).where(
        OptOutSuppression.phone_hash.in_(candidate_hashes(phone))).limit(1)) is not None


def add(session: Session, phone: str) -> bool:
    """Remember that ``phone`` opted out; False if it already was."""
    if is_suppressed(session, phone):
        return False
    session.add(OptOutSuppression(phone_hash=phone_hash(phone)))
    session.flush()
    return True


def remove(session: Session, phone: str) -> int:
    """Forget any suppression of ``phone``; return how many rows went."""
    result = session.execute(delete(OptOutSuppression).where(
        OptOutSuppression.phone_hash.in_(candidate_hashes(phone)))
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def apply(session: Session, person: Person) -> None:
    """For a person being created: opted out if their phone was erased while opted out."""
    if person.phone and remove(session, person.phone):
        person.sms_opted_out = True
        person.sms_opted_out_at = utcnow()
