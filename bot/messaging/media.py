"""A message with media (an MMS, a Telegram photo), on any text medium (SPEC §5.4).

The channels read what the conversation's active form waits for (:class:`Waiting`) from Rasa's
tracker only when a message carries media; :meth:`Waiting.on_media` says what to do with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.domain.forms import PHOTO_PAYLOAD, PHOTO_SLOT, REPORT_FORM
from bot.messaging.messages import BotMessage


@dataclass(frozen=True)
class Waiting:
    """What a conversation's active form is waiting for, and the question as it was last said.

    A photo is taken at the report's photo question (the only step that takes media); anywhere
    else in a form it is declined and the pending ``question`` is asked again, so the person
    knows what to answer.
    """

    form: str | None = None
    slot: str | None = None
    question: BotMessage | None = None

    @property
    def photo(self) -> bool:
        return self.form == REPORT_FORM and self.slot == PHOTO_SLOT

    def on_media(self, media: list[dict[str, Any]], words: str) -> MediaStep:
        """A message with media (MMS, a Telegram photo) and maybe ``words`` (its caption)."""
        if self.photo:
            return MediaStep(declined=False, ask=PHOTO_PAYLOAD, media=media)
        if words or self.question is None:
            return MediaStep(declined=True, ask=words or None)
        return MediaStep(declined=True, repeat=[self.question])


@dataclass(frozen=True)
class MediaStep:
    """What a channel does with media: say it is ``declined`` (then answer ``ask``, or
    ``repeat`` the pending question), or hand ``ask`` to Rasa with ``media`` as metadata."""

    declined: bool
    ask: str | None = None
    media: list[dict[str, Any]] = field(default_factory=list)
    repeat: list[BotMessage] = field(default_factory=list)


NOT_WAITING = Waiting()
