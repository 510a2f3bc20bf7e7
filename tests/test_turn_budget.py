"""The turn budget (SPEC §1.1, issue 9): no turn sends more than three messages on any text
channel, and a bare number picks from the last message's buttons only."""

from __future__ import annotations

import re

import pytest

from bot.messaging.messages import MAX_TURN_MESSAGES, BotMessage, capped, last_options
from bot.messaging.sms.render import render_sms
from bot.messaging.telegram.render import render_telegram

MENU = (("My application", "/check_application_status"), ("Talk to a person", "/request_human"))


def test_a_runaway_turn_is_cut_to_three_messages_and_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    answer = BotMessage("Open on Saturday: City Hall 09:00-12:00.")
    again = [BotMessage(f"Sorry, I did not get that ({n}).", MENU) for n in range(9)]
    with caplog.at_level("WARNING", logger="bot.messaging"):
        sms = render_sms([answer, *again])
        telegram = render_telegram([answer, *again], lambda payload: 1)
    assert len(sms.bodies) <= MAX_TURN_MESSAGES
    assert sms.options == list(MENU)  # 1 and 2, never 17 or 70
    numbers = re.findall(r"^(\d+)\. ", "\n".join(sms.bodies), flags=re.M)
    assert numbers == ["1", "2"]
    assert [m.text for m in telegram] == [answer.text, again[0].text, again[-1].text]
    assert "was cut to 3" in caplog.text


def test_the_same_message_twice_is_sent_once() -> None:
    menu = BotMessage("What do you need?", MENU)
    assert capped([menu, menu]) == [menu]
    assert render_sms([menu, menu]).bodies == render_sms([menu]).bodies


def test_a_long_sms_turn_is_never_more_than_three_messages() -> None:
    reply = render_sms([BotMessage("word " * 2000)])
    assert len(reply.bodies) == MAX_TURN_MESSAGES


def test_the_options_are_the_last_buttons_of_the_turn() -> None:
    offer = BotMessage("Talk to a person?", (("Yes", "/request_human"), ("No", "/cancel")))
    assert last_options([BotMessage("Menu", MENU), offer, BotMessage("(no buttons)")]) == \
        list(offer.buttons)
    assert last_options([BotMessage("Nothing to pick")]) == []
