"""What the three channels share: request parsing, Twilio's signature, one Rasa turn.

The channels are thin Rasa input channels: they check who is calling, parse, dedupe, run the
turn and answer; every decision about the conversation is in ``bot/`` (sms, voice,
telegram_chat, render). Database work runs in a worker thread (``asyncio.to_thread``) so a busy
SQLite never stalls the event loop that serves every webhook.

Fail closed, lose nothing (:func:`once`): a message is claimed, its turn runs, and only a turn
that finished marks it answered, with its reply. When the database or the tracker store
fails, the person is told (the technical-problem reply, with the call centre's number) and
the message stays unprocessed, so the provider's retry runs it once the database is back. A
webhook answers within its budget (Twilio waits 15 s); a turn still running then finishes
in the background and records its own outcome.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import RequestValidator

from bot.config import get_settings, tunable
from bot.domain import people
from bot.language import texts
from bot.messaging import inbound
from bot.messaging.limits import TOO_LONG_RESPONSE, too_long
from bot.messaging.media import NOT_WAITING, Waiting
from bot.messaging.messages import BotMessage
from bot.store.db import session_scope

logger = logging.getLogger(__name__)
T = TypeVar("T")
MAX_FORM_FIELDS = 200
FORM_TYPE = "application/x-www-form-urlencoded"


_background: set[asyncio.Task] = set()  # turns that outlived their webhook's budget


def webhook_budget() -> float:
    """Seconds a Twilio webhook may take before it must answer (Twilio gives up at 15)."""
    return tunable("CIVICLINE_WEBHOOK_BUDGET_SECONDS", 12)


def technical_problem(language: str | None) -> str:
    """The apology with the call centre's number ("Sorry, something went wrong...")."""
    return texts.text("utter_technical_problem", language,
                      call_centre=get_settings().call_centre_number)


@dataclass
class Turn:
    """What a turn learnt before it failed (the person's language, for the apology), and
    whether it was only a rate-limit notice."""

    language: str | None = None
    throttled: bool = False


@dataclass(frozen=True)
class Handled(Generic[T]):
    """How :func:`once` went. ``claim`` is None when even the claim failed (the database is
    down); ``result`` is the turn's result, None when it failed or ran over budget."""

    claim: inbound.Claim | None
    result: T | None = None

    @property
    def failed(self) -> bool:
        """Nothing to answer but an apology: the message was not processed (yet)."""
        return self.claim is None or (self.claim.ours and self.result is None)


async def once(channel: str, external_id: str, work: Callable[[], Awaitable[T]],
               stored: Callable[[T], str], media: list[dict[str, Any]] | None = None,
               budget: float | None = None) -> Handled[T]:
    """Claim ``external_id`` and, when it is ours, run ``work()`` once.

    A finished turn is recorded as answered with ``stored(result)``, the reply a retry gets
    again; a failed one releases its claim (a retry runs it again). Returns within ``budget``
    seconds (default :func:`webhook_budget`); a turn still running then goes on in the
    background and records its own outcome.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (budget or webhook_budget())
    try:
        claiming = asyncio.to_thread(inbound.claim, channel, external_id, media)
        claimed = await asyncio.wait_for(claiming, max(deadline - loop.time(), 0.1))
    except (SQLAlchemyError, asyncio.TimeoutError):
        logger.exception("%s: could not claim %s: not processed", channel, external_id[:24])
        return Handled(None)
    if not claimed.ours:
        return Handled(claimed)

    async def run() -> T | None:
        try:
            result = await work()
        except Exception:  # the database, the tracker store or a bug: not processed
            logger.exception("%s: could not answer %s: not processed", channel,
                             external_id[:24])
            await asyncio.to_thread(inbound.release, channel, external_id)
            return None
        try:
            await asyncio.to_thread(inbound.answered, channel, external_id, stored(result))
        except SQLAlchemyError:  # answered, not recorded: the lease hands a retry a new turn
            logger.exception("%s: answer to %s not recorded", channel, external_id[:24])
        return result

    task = loop.create_task(run())
    _background.add(task)
    task.add_done_callback(_background.discard)
    try:
        result = await asyncio.wait_for(asyncio.shield(task), max(deadline - loop.time(), 0.1))
    except asyncio.TimeoutError:
        logger.warning("%s: %s is still running after the webhook's budget; answered with an "
                       "apology, the turn records its own outcome", channel, external_id[:24])
        result = None
    return Handled(claimed, result)


async def reply_of(handled: Handled[str],
                   busy: Callable[[inbound.Claim], Awaitable[str | None]]) -> str | None:
    """What a request answers after :func:`once`: its own turn's reply; for a re-send of a
    request answered before, the stored reply; for one whose first request is still being
    answered, ``busy(claim)``'s (a call: a pause and a redirect; USSD: the first's screen once
    it is done); None: nothing but an apology (the turn failed, or never answered)."""
    claim = handled.claim
    if claim is None:
        return None
    if claim.outcome == inbound.ANSWERED and claim.reply:
        return claim.reply
    if claim.outcome == inbound.BUSY:
        return await busy(claim)
    return handled.result if claim.ours else None


def begin_turn(channel: str, sender: str, external_id: str,
               begin: Callable[..., T], *args: Any) -> tuple[T, str | None]:
    """In one transaction: the person behind ``sender`` (created on first contact) owns the
    claimed message ``external_id``, and ``begin(session, person, *args)`` decides what to do
    before Rasa; with the person's language (for an error message)."""
    with session_scope() as session:
        person = people.get_or_create(session, sender)
        inbound.record(session, channel, external_id, person=person)
        return begin(session, person, *args), person.language


def answer_turn(sender: str, answer: Callable[..., T], *args: Any) -> T:
    """``answer(session, person, *args)``: Rasa's answer rendered for the person's channel."""
    with session_scope() as session:
        return answer(session, people.get_or_create(session, sender), *args)


def refuse(status: int, reason: str) -> response.HTTPResponse:
    """A 4xx answer that says what is wrong (and nothing was processed)."""
    return response.json({"error": reason}, status=status)


RETRY_AFTER_SECONDS = 30


def not_processed(reason: str) -> response.HTTPResponse:
    """A 503 for a message not taken in (a failed turn, limits that cannot be counted): the
    reason, and when to send it again; the sender's retry loses nothing."""
    return response.json({"error": f"the message was not processed ({reason}); send it "
                                   "again later"},
                         status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def xml(body: str) -> response.HTTPResponse:
    return response.text(body, content_type="text/xml; charset=utf-8")


def twilio_form(request: Request) -> RequestParameters | str:
    """Twilio's form parameters, blank ones included (they are signed too), or why not.

    Sanic's own ``request.form`` drops blank values, which would break the signature of real
    Twilio requests (``FromCity=`` and friends), and logs a traceback on a bad body.
    """
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        return f"the body must be {FORM_TYPE}"
    try:
        body = request.body.decode("utf-8")
        return RequestParameters(parse_qs(body, keep_blank_values=True,
                                          max_num_fields=MAX_FORM_FIELDS))
    except ValueError:  # not UTF-8, or too many fields
        return "the body is not a valid form"


def public_url(request: Request) -> str:
    """The URL Twilio requested, as it signed it: PUBLIC_BASE_URL + path (+ query)."""
    url = get_settings().public_base_url + request.path
    return f"{url}?{request.query_string}" if request.query_string else url


def twilio_signed(request: Request, params: RequestParameters) -> bool:
    """True when ``X-Twilio-Signature`` is Twilio's signature of this URL and form."""
    signature = request.headers.get("x-twilio-signature")
    if not signature:
        return False
    validator = RequestValidator(get_settings().twilio_auth_token)
    return validator.validate(public_url(request), params, signature)


def signed_twilio_form(request: Request) -> RequestParameters | response.HTTPResponse:
    """The form of a genuine Twilio request, or the refusal to send back (400, 403).

    Nothing about the request is processed before this passes (SPEC §6.1, §6.3).
    """
    params = twilio_form(request)
    if isinstance(params, str):
        return refuse(400, params)
    if not twilio_signed(request, params):
        return refuse(403, "missing or invalid X-Twilio-Signature")
    return params


def channel_blueprint(name: str) -> Blueprint:
    """A channel's blueprint with its ``GET /`` health route (as Rasa's channels have)."""
    bp = Blueprint(name, __name__)

    @bp.get("/")
    async def health(_request: Request) -> response.HTTPResponse:
        return response.json({"status": "ok"})

    return bp


def field(params: RequestParameters, name: str) -> str:
    """The (first) value of a form field, '' when absent."""
    return params.get(name) or ""


class TurnCollector(CollectingOutputChannel):
    """Collects a turn's messages whole (text, buttons, custom, the response's metadata)
    instead of Rasa's text-only split, for each medium's renderer
    (bot/messaging/<medium>/render.py) to render once."""

    def __init__(self, channel: str) -> None:
        super().__init__()
        self.channel = channel

    def name(self) -> str:  # type: ignore[override]  # an instance's name: its channel
        return self.channel

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.messages.append(dict(message))


def media_metadata(media: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The user message's metadata that carries a photo to the form (actions/forms.media_of)."""
    return {"media": media} if media else None


async def form_waiting(request: Request, sender_id: str) -> Waiting:
    """What this sender's active form waits for, read from Rasa's own tracker (the form,
    its ``requested_slot`` and the last question live there). Without a loaded agent (a
    channel mounted alone) nothing is known, and a photo is declined as anywhere else.
    """
    agent = getattr(request.app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    tracker = await store.retrieve(sender_id) if store is not None else None
    if tracker is None or not tracker.active_loop_name:
        return NOT_WAITING
    question = next((BotMessage.from_rasa(event.message()) for event in reversed(tracker.events)
                     if isinstance(event, BotUttered) and event.text), None)
    return Waiting(tracker.active_loop_name, tracker.get_slot("requested_slot"), question)


async def unfinished_form(request: Request, sender: str, channel: str) -> Waiting:
    """The form ``sender`` is in the middle of (a call or a USSD session opening offers to go
    on with it); none once the conversation has expired (Rasa starts a new session without
    it), or when the tracker cannot be read (the session goes on without the offer)."""
    try:
        waiting = await form_waiting(request, sender)
        if waiting.form is None:
            return waiting
        agent = request.app.ctx.agent
        tracker = await agent.tracker_store.retrieve(sender)
        minutes = agent.domain.session_config.session_expiration_time if agent.domain else 0
        last = tracker.events[-1].timestamp if tracker and tracker.events else 0
    except Exception:  # the tracker cannot be read: the session goes on without the offer
        logger.exception("%s: could not read the form of a sender", channel)
        return NOT_WAITING
    return NOT_WAITING if minutes and time.time() - last > minutes * 60 else waiting


async def run_turn(on_new_message: Callable[[UserMessage], Awaitable[Any]], channel: str,
                   sender_id: str, text: str, message_id: str | None = None,
                   metadata: dict[str, Any] | None = None) -> list[BotMessage]:
    """Hand one message to Rasa and return what the assistant answered."""
    collector = TurnCollector(channel)
    await capped(on_new_message)(UserMessage(text, collector, sender_id, input_channel=channel,
                                             message_id=message_id, metadata=metadata))
    return [BotMessage.from_rasa(message) for message in collector.messages]


def _language_of(sender_id: str) -> str | None:
    with session_scope() as session:
        person = people.find(session, sender_id)
        return person.language if person is not None else None


def capped(on_new_message: Callable[[UserMessage], Awaitable[Any]]
           ) -> Callable[[UserMessage], Awaitable[Any]]:
    """Rasa's message handler behind the message cap (SPEC §6, bot/messaging/limits.py): an
    over-long
    message never reaches NLU; its sender is told so politely, in their language, on the
    message's own output channel."""

    async def handler(message: UserMessage) -> Any:
        if not too_long(message.text):
            return await on_new_message(message)
        language = await asyncio.to_thread(_language_of, message.sender_id)
        logger.info("%s: a message of %d characters was over the cap, not understood",
                    message.input_channel, len(message.text or ""))
        await message.output_channel.send_response(
            message.sender_id, {"text": texts.text(TOO_LONG_RESPONSE, language)})
        return None

    return handler
