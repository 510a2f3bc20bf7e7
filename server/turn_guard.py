"""After Rasa's circuit breaker trips, the conversation still goes on (SPEC §1.1, issue 9).

Rasa stops a turn after ``MAX_NUMBER_OF_PREDICTIONS`` actions without an ``action_listen``
and saves the tracker as it is. It counts actions back to the last ``action_listen``, so
on the next message it counts the runaway turn's actions again and trips at once: the person
gets no answer at all until the session expires. The dialogue itself ends every turn
(actions/conversation.py: the fallback always hands over to ``action_listen``); this guard
makes sure that, if a turn still runs away, the saved tracker ends with a listen and the
next message is answered.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, Sanic

logger = logging.getLogger(__name__)


def end_runaway_turn(tracker: DialogueStateTracker, *_: Any) -> None:
    """Rasa's ``on_circuit_break`` callback: close the turn with the listen it never reached."""
    logger.error("a turn ran away for sender %s (circuit breaker): it ends here, the next "
                 "message is answered", tracker.sender_id)
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))


def attach(bp: Blueprint) -> None:
    """Install :func:`end_runaway_turn` on the loaded agent's processor once the server runs."""

    @bp.listener("after_server_start")
    async def install(app: Sanic, _loop: Any) -> None:
        processor = getattr(getattr(app.ctx, "agent", None), "processor", None)
        if processor is not None:
            processor.on_circuit_break = end_runaway_turn
        else:
            logger.warning("no agent loaded: the circuit-breaker guard is not installed")
